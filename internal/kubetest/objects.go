package kubetest

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// CreateNamespace creates the namespace name; an existing one is fine.
func CreateNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubetest: create namespace %s: %w", name, err)
	}
	return nil
}

// UpdatePodStatus changes the status of a pod through its status
// subresource, as a kubelet would: it reads the pod, applies change and
// writes the status back, retrying on conflicts.
func UpdatePodStatus(ctx context.Context, client kubernetes.Interface, namespace, name string, change func(*corev1.PodStatus)) error {
	pods := client.CoreV1().Pods(namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(&pod.Status)
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("kubetest: update status of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// MirrorReplicas does once what the Deployment and StatefulSet controllers
// do over time: for every Deployment and StatefulSet of namespace whose
// status lags its spec, it sets status.replicas, readyReplicas,
// availableReplicas and updatedReplicas to spec.replicas and
// observedGeneration to the generation, through the status subresource. It
// creates no pods. It returns how many objects it updated.
func MirrorReplicas(ctx context.Context, client kubernetes.Interface, namespace string) (int, error) {
	n := 0
	deps, err := client.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return n, fmt.Errorf("kubetest: list deployments: %w", err)
	}
	for _, d := range deps.Items {
		want := replicas(d.Spec.Replicas)
		if d.Status.Replicas == want && d.Status.ReadyReplicas == want && d.Status.ObservedGeneration == d.Generation {
			continue
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := client.AppsV1().Deployments(namespace).Get(ctx, d.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			want := replicas(cur.Spec.Replicas)
			cur.Status = appsv1.DeploymentStatus{
				ObservedGeneration: cur.Generation, Replicas: want, UpdatedReplicas: want,
				ReadyReplicas: want, AvailableReplicas: want,
			}
			_, err = client.AppsV1().Deployments(namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return n, fmt.Errorf("kubetest: mirror replicas of deployment %s/%s: %w", namespace, d.Name, err)
		}
		n++
	}
	sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return n, fmt.Errorf("kubetest: list statefulsets: %w", err)
	}
	for _, s := range sets.Items {
		want := replicas(s.Spec.Replicas)
		if s.Status.Replicas == want && s.Status.ReadyReplicas == want && s.Status.ObservedGeneration == s.Generation {
			continue
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := client.AppsV1().StatefulSets(namespace).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			want := replicas(cur.Spec.Replicas)
			cur.Status = appsv1.StatefulSetStatus{
				ObservedGeneration: cur.Generation, Replicas: want, UpdatedReplicas: want,
				ReadyReplicas: want, AvailableReplicas: want, CurrentReplicas: want,
			}
			_, err = client.AppsV1().StatefulSets(namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return n, fmt.Errorf("kubetest: mirror replicas of statefulset %s/%s: %w", namespace, s.Name, err)
		}
		n++
	}
	return n, nil
}

// replicas is the API default of spec.replicas: 1 when unset.
func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

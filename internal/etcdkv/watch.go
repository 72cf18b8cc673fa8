package etcdkv

import (
	"errors"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// errWatchEnded is why a watch whose channel closed, or which was
// cancelled, ended.
var errWatchEnded = errors.New("watch ended")

// WatchEnded returns nil when resp, received from a watch channel with
// ok, carries events, and otherwise why the watch ended: the channel
// closed (ok false), or etcd cancelled it or answered with an error
// (compacted, no leader), that error joined with "watch ended".
func WatchEnded(resp clientv3.WatchResponse, ok bool) error {
	if ok && resp.Err() == nil && !resp.Canceled {
		return nil
	}
	var werr error
	if ok {
		werr = resp.Err()
	}
	return errors.Join(werr, errWatchEnded)
}

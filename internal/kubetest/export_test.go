package kubetest

import "syscall"

// Kill sends SIGKILL to the API server process, as the kernel's OOM
// killer would, and returns once the process is reaped.
func (s *Server) Kill() error {
	cmd, exited, err := s.process()
	if err != nil {
		return err
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-exited
	return nil
}

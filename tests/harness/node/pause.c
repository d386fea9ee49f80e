/* The pod sandbox's process: holds the pod's namespaces open and does nothing else. It sleeps
 * until SIGTERM or SIGINT (the runtime's stop) and exits 0; as PID 1 of the sandbox it also reaps
 * any child handed to it. Built static (scripts/build-node-images.sh), so the image is this one
 * file. */
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
  (void)sig;
  stop = 1;
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
}

int main(void) {
  sigset_t block, waiting;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  /* Blocked until sigsuspend, so a stop that arrives between the check and the wait is not lost. */
  sigprocmask(SIG_BLOCK, &block, &waiting);
  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, 0);
  while (!stop) sigsuspend(&waiting);
  return 0;
}

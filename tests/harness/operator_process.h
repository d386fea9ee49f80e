#pragma once
// Runs a program (the operator under test) as a child process with its output in a log file;
// the destructor kills it, so a failing test never leaves it behind.

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace byok::testing {

class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM and wait: a graceful shutdown. Returns the exit status (-1 if it had to be killed).
  int terminate(int wait_seconds = 10);
  // SIGKILL: a crash, nothing runs on the way out.
  void kill_hard();
  bool running();
  // The exit status once running() saw the process end by itself (-1 if killed by a signal or
  // still running).
  int exit_status() const { return exit_status_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

std::string read_file(const std::string& path);

// The operator binary under test, watching namespace `ns` only (unless `extra_flags` name
// another --namespace), JSON logs into `log_path`,
// without /metrics or probe listeners, with `ns` as its --cluster-resource-namespace and
// public,https://127.0.0.1:* as its --kms-endpoint-allow (unless extra_flags sets that flag). Extra
// flags are appended (a later flag wins, so
// --metrics-bind-address 127.0.0.1:PORT turns the listener on).
std::unique_ptr<ChildProcess> start_operator(const std::string& ns, const std::string& log_path,
                                             const std::vector<std::string>& extra_flags = {});

}  // namespace byok::testing

#include "tests/harness/operator_process.h"

#include <algorithm>

#include "tests/harness/cluster.h"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace byok::testing {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill_hard();
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  return true;
}

int ChildProcess::terminate(int wait_seconds) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < wait_seconds * 10; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill_hard();
  return -1;
}

void ChildProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<ChildProcess> start_operator(const std::string& ns, const std::string& log_path,
                                             const std::vector<std::string>& extra_flags) {
  // No /metrics or probe listeners unless a test asks for them (on 127.0.0.1): the defaults
  // (:8080, :8081 on every interface) would collide between operators run in parallel.
  std::vector<std::string> args{"--kubeconfig", kubeconfig_path(), "--namespace", ns,
                                "--log-format", "json", "--workers", "2", "--metrics-bind-address",
                                "0", "--health-probe-bind-address", "0",
                                // ClusterKmsProviders' Secrets: the test's namespace.
                                "--cluster-resource-namespace", ns,
                                // Tests watch drift with byok.dev/verify-interval: 1s.
                                "--min-verify-interval", "1s"};
  // The test servers listen on 127.0.0.1 over TLS (the Azure fake is named by a public vault
  // URL): the cluster admin's allow-list for namespaced KmsProviders, unless the test sets its own.
  if (std::find(extra_flags.begin(), extra_flags.end(), "--kms-endpoint-allow") ==
      extra_flags.end())
    args.insert(args.end(), {"--kms-endpoint-allow", "public,https://127.0.0.1:*"});
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  return std::make_unique<ChildProcess>(BYOK_OPERATOR_BINARY, args, log_path);
}

}  // namespace byok::testing

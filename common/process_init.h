#pragma once
// Call first thing in main() of every program that uses cpprestsdk.
//
// OpenSSL's atexit handler frees its global locks at exit(). cpprestsdk's thread pool is torn
// down later, by its own static destructor, and one of its threads may still be freeing an
// SSL_CTX at that moment: it then spins on a freed lock and the process never exits (seen as a
// test binary at 100% CPU after its last assertion). With this call OpenSSL registers no atexit
// handler and leaves the memory to the OS, as it does for a process that is killed.

namespace byok {

void skip_openssl_atexit_cleanup();

// For programs that hold secrets (the HSM PIN, KMS credentials, wrapped material): no core file
// (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core, no ptrace by other processes of
// the same user, /proc/<pid>/mem closed to them). Call first thing in main().
void disable_core_dumps();

}  // namespace byok

/* spawn: runs one command and prints what it cost, for bench/harness.py.
 *
 *   spawn OUT ERR PROGRAM [ARG...]
 *   -> stdout: "<wall ns> <user us> <sys us> <peak rss KiB> <exit code>\n"
 *
 * Why not time it from Python: ru_maxrss keeps the high-water mark of the memory a process
 * had when it called exec, so a command started by Python (fork or vfork) reports at least
 * Python's own ~10 MiB. Started from this small static program it reports its own peak
 * (GNU time does the same, but only to 10 ms). CPU time and peak RSS come from wait4: the
 * command plus every descendant it waited for; peak RSS is the largest single process. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long usec(struct timeval t) { return t.tv_sec * 1000000LL + t.tv_usec; }

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: spawn OUT ERR PROGRAM [ARG...]\n");
    return 2;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  struct timespec t0, t1;
  pid_t pid;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int err = posix_spawn(&pid, argv[3], &fa, NULL, argv + 3, environ);
  if (err) {
    fprintf(stderr, "spawn: cannot run %s: error %d\n", argv[3], err);
    return 127;
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("spawn: wait4");
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long wall = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%lld %lld %lld %ld %d\n", wall, usec(ru.ru_utime), usec(ru.ru_stime), ru.ru_maxrss, code);
  return 0;
}

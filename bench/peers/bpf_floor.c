// Loads bpf_floor.bpf.o, attaches its programs, prints "ready" and waits for SIGINT/SIGTERM.
// Which programs: those named in the comma-separated second argument, else the calibration
// programs (names starting with "f"), which bench/peers/percost.sh times through bpf_stats.
// bench/peers/slowdown.sh names the hook floors (slow_*) one tracer at a time.
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Whether `name` is one of the comma-separated `names` (NULL: the calibration programs). */
static int wanted(const char* name, const char* names) {
  if (!names) return name[0] == 'f';
  size_t n = strlen(name);
  for (const char* p = names; *p;) {
    const char* end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s bpf_floor.bpf.o [PROGRAM,...]\n", argv[0]);
    return 2;
  }
  const char* names = argc == 3 ? argv[2] : NULL;
  struct bpf_object* obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    fprintf(stderr, "bpf_floor: cannot open %s\n", argv[1]);
    return 1;
  }
  struct bpf_program* prog;
  int chosen = 0;
  bpf_object__for_each_program(prog, obj) {
    int want = wanted(bpf_program__name(prog), names);
    bpf_program__set_autoload(prog, want);
    chosen += want;
  }
  if (!chosen) {
    fprintf(stderr, "bpf_floor: no program of %s is named %s\n", argv[1], names ? names : "f*");
    return 2;
  }
  if (bpf_object__load(obj)) {
    fprintf(stderr, "bpf_floor: cannot open or load %s\n", argv[1]);
    return 1;
  }
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    if (!bpf_program__attach(prog)) {
      fprintf(stderr, "bpf_floor: cannot attach %s\n", bpf_program__name(prog));
      return 1;
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("ready\n");
  fflush(stdout);
  while (!stop) pause();
  bpf_object__close(obj);
  return 0;
}

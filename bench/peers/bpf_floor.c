// Loads bpf_floor.bpf.o, attaches every program, prints "ready" and waits for SIGINT/SIGTERM.
// bench/peers/percost.sh reads the programs' run_time_ns / run_cnt from this process's fdinfo.
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s bpf_floor.bpf.o\n", argv[0]);
    return 2;
  }
  struct bpf_object* obj = bpf_object__open_file(argv[1], NULL);
  if (!obj || bpf_object__load(obj)) {
    fprintf(stderr, "bpf_floor: cannot open or load %s\n", argv[1]);
    return 1;
  }
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
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

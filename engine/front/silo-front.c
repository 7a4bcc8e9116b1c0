// silo-front: the `silo` command on Linux. It starts in about a millisecond, connects to the running
// engine's <root>/cli.sock and relays this command line, environment, working directory, standard
// streams, terminal size and signals; the engine runs the command (engine/src/cli/relay.ts holds the
// frame format) and ends with its exit code. A Node CLI pays ~60 ms to start, more than running a
// container costs. With no engine listening (or for `silo engine` itself) it runs the Node CLI, silo.js
// next to this binary, which starts the engine; the next command is relayed.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static struct termios saved_termios;
static int raw_mode;

static void restore_terminal(void) {
  if (raw_mode) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
  raw_mode = 0;
}

static void set_raw(int on) {
  if (on && !raw_mode && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
    struct termios raw = saved_termios;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) raw_mode = 1;
  } else if (!on) {
    restore_terminal();
  }
}

static void write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stdout: like any CLI, the rest of the output has nowhere to go
    p += n;
    len -= (size_t)n;
  }
}

static void send_frame(int sock, char type, const void *data, size_t len) {
  unsigned char head[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  write_all(sock, head, sizeof head);
  if (len) write_all(sock, data, len);
}

// A growable byte buffer for the hello and for frames being read.
struct buf {
  char *data;
  size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 4096;
    b->data = realloc(b->data, b->cap);
    if (!b->data) {
      fputs("silo: out of memory\n", stderr);
      exit(1);
    }
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void buf_field(struct buf *b, const char *s) { buf_add(b, s, strlen(s) + 1); }

// The Node CLI beside this binary: used when no engine listens, for `silo engine`, and for commands
// the engine hands back (those that must outlive an engine restart, such as `logs -f`).
static void run_node_cli(char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
  if (n < 0) {
    perror("silo: cannot find where silo is installed");
    exit(1);
  }
  self[n] = 0;
  char *slash = strrchr(self, '/');
  strcpy(slash + 1, "silo.js");
  int argc = 0;
  while (argv[argc]) argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  const char *node = getenv("SILO_NODE");
  args[0] = (char *)(node && *node ? node : "node");
  args[1] = self;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execvp(args[0], args);
  fprintf(stderr, "silo: cannot run %s (%s): install Node.js 20 or later, or set SILO_NODE to its path\n", args[0], strerror(errno));
  exit(127);
}

// The data root, as engine/src/rpc/connect.ts defaultDataRoot decides it; *first is the first argument
// after the leading --root flags.
static char *data_root(int argc, char **argv, int *first) {
  char *root = NULL;
  int i = 1;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--root") && i + 1 < argc) root = argv[++i];
    else if (!strncmp(argv[i], "--root=", 7)) root = argv[i] + 7;
    else break;
  }
  *first = i;
  if (root) return strdup(root);
  const char *env = getenv("SILO_ROOT");
  if (env && *env) return strdup(env);
  if (getuid() == 0) return strdup("/var/lib/silo");
  char *out;
  const char *xdg = getenv("XDG_DATA_HOME");
  if (xdg && *xdg) {
    if (asprintf(&out, "%s/silo", xdg) < 0) exit(1);
    return out;
  }
  const char *home = getenv("HOME");
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : "/";
  }
  if (asprintf(&out, "%s/.local/share/silo", home) < 0) exit(1);
  return out;
}

static int connect_engine(const char *root) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/cli.sock", root) >= (int)sizeof addr.sun_path) return -1;
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    close(sock);
    return -1;
  }
  return sock;
}

static void send_hello(int sock, int argc, char **argv, int first) {
  struct buf b = {0};
  char num[32];
  buf_field(&b, "silo-front 1");
  char *cwd = getcwd(NULL, 0);
  buf_field(&b, cwd ? cwd : "");
  free(cwd);
  char tty[4] = {isatty(0) ? '1' : '0', isatty(1) ? '1' : '0', isatty(2) ? '1' : '0', 0};
  buf_field(&b, tty);
  struct winsize ws = {0};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0) ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
  snprintf(num, sizeof num, "%u", ws.ws_row);
  buf_field(&b, num);
  snprintf(num, sizeof num, "%u", ws.ws_col);
  buf_field(&b, num);
  snprintf(num, sizeof num, "%d", argc - first);
  buf_field(&b, num);
  for (int i = first; i < argc; i++) buf_field(&b, argv[i]);
  for (char **e = environ; *e; e++) buf_field(&b, *e);
  send_frame(sock, 'H', b.data, b.len);
  free(b.data);
}

static void send_size(int sock) {
  struct winsize ws = {0};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0) return;
  char text[32];
  int n = snprintf(text, sizeof text, "%u %u", ws.ws_row, ws.ws_col);
  send_frame(sock, 'R', text, (size_t)n);
}

static void finish(int code) {
  restore_terminal();
  exit(code & 0xff);
}

int main(int argc, char **argv) {
  int first;
  char *root = data_root(argc, argv, &first);
  if (first < argc && !strcmp(argv[first], "engine")) run_node_cli(argv);
  int sock = connect_engine(root);
  if (sock < 0) run_node_cli(argv);  // no engine yet: the Node CLI starts one

  // Signals become frames: the engine decides (a build cancels on Ctrl-C; most commands end).
  sigset_t sigs;
  sigemptyset(&sigs);
  int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
  for (size_t i = 0; i < sizeof relayed / sizeof *relayed; i++) sigaddset(&sigs, relayed[i]);
  sigprocmask(SIG_BLOCK, &sigs, NULL);
  int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
  atexit(restore_terminal);

  send_hello(sock, argc, argv, first);

  struct buf in = {0};
  int want_stdin = 0, interrupts = 0;
  char chunk[65536];
  for (;;) {
    struct pollfd fds[3] = {{sock, POLLIN, 0}, {sigfd, POLLIN, 0}, {want_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      perror("silo: poll");
      finish(1);
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          send_size(sock);
        } else {
          // An engine that does not answer must not hold the terminal: the third Ctrl-C leaves.
          if (si.ssi_signo == SIGINT && ++interrupts >= 3) finish(130);
          const char *name = sigabbrev_np((int)si.ssi_signo);
          char full[16];
          int n = snprintf(full, sizeof full, "SIG%s", name ? name : "INT");
          send_frame(sock, 'S', full, (size_t)n);
        }
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n > 0) {
        send_frame(sock, 'I', chunk, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        send_frame(sock, 'E', NULL, 0);
        want_stdin = 0;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        restore_terminal();  // before the message: a raw terminal would not return the carriage
        fputs("silo: the engine stopped while handling this request: run the command again (the engine restarts), and see engine.log in the data root if it recurs\n", stderr);
        finish(1);
      }
      buf_add(&in, chunk, (size_t)n);
      size_t off = 0;
      while (in.len - off >= 5) {
        const unsigned char *h = (const unsigned char *)in.data + off;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (in.len - off - 5 < len) break;
        const char *payload = in.data + off + 5;
        switch (h[0]) {
          case '1': write_all(STDOUT_FILENO, payload, len); break;
          case '2': write_all(STDERR_FILENO, payload, len); break;
          case 'W': want_stdin = 1; break;
          case 'N':
            restore_terminal();
            sigprocmask(SIG_UNBLOCK, &sigs, NULL);  // exec keeps the mask: node must get its signals
            close(sock);
            close(sigfd);
            run_node_cli(argv);
            break;
          case 'T': set_raw(len && payload[0] == '1'); break;
          case 'X': {
            char code[16] = {0};
            memcpy(code, payload, len < 15 ? len : 15);
            finish(atoi(code));
          }
        }
        off += 5 + len;
      }
      memmove(in.data, in.data + off, in.len - off);
      in.len -= off;
    }
  }
}

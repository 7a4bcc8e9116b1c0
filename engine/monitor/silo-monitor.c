// silo-monitor: watches ONE container (or one exec'd process) from outside the engine, the
// containerd-shim / conmon pattern. It owns the process's stdio, writes the log as JSON lines,
// records the exit status, and lets the engine exit or crash without losing a line or an exit code.
// One small C process per container (about 1 MB), not a Node process (38 MB): see DESIGN.md.
//
// Why not Debian's conmon: its stdin/attach socket is SOCK_SEQPACKET, which Node cannot open, and it
// writes only the CRI/k8s log format. Everything here is the subset Silo needs.
//
//   silo-monitor create --id ID --runtime PATH --runtime-root DIR --bundle DIR
//                       --log FILE --exit FILE --socket FILE [--terminal] [--stdin]
//                       [--rootfs-mount OVERLAY_OPTIONS --rootfs-cwd DIR] [--hybrid-cgroups]
//                       [--log-max-size BYTES] [--log-max-files N] [--port HOSTIP:HOSTPORT:CTRPORT]...
//                       [--foreground] [--state-dir DIR]
//   silo-monitor exec   --id ID --runtime PATH --runtime-root DIR --process FILE
//                       --log FILE --exit FILE --socket FILE [--terminal] [--stdin] [--hybrid-cgroups]
//   silo-monitor --launcher    starts monitors on request (see "the launcher" at the end)
//
// Start-up report: if fd 3 is open, one JSON line is written to it and it is closed:
//   {"pid":N}  once the process runs, or  {"error":"...","exitCode":N}  if it never started.
// Log: one JSON object per line, {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}, each line
//   written with a single write(2); rotation renames FILE -> FILE.1 -> ... so a reader that reaches EOF
//   on a file whose path now names another inode finishes the old file first and never loses a line.
// Exit: FILE written atomically: {"exitCode":N,"signal":"SIGKILL"|null,"oomKilled":bool,"finishedAt":"...",
//   "released":true}. "released": by then the root filesystem is unmounted and the runtime's state is
//   gone, so the engine may delete the snapshot without waiting for this process to end.
// --foreground (crun): `crun run` stays in the foreground as the container's parent, so its exit status
//   is the container's and crun deletes its own state: no `--detach`, no `crun delete` (one runtime
//   process instead of two). crun reports death by signal n as 128+n, as a shell does.
// Control socket (stream, owner-only): frames [type u8][length u32 BE][payload]:
//   1 stdin data, 2 close stdin, 3 resize (rows u16 BE, cols u16 BE), 4 signal (signo u32 BE);
//   the monitor sends 5 (exit; payload the exit JSON) to every connected client when the process ends.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define MAX_PORTS 32
#define MAX_PROXIES 256
#define LINE_MAX_BYTES (16 * 1024) // Docker's copier splits longer lines too (daemon/logger/copier.go)

// ---------- options ----------
static struct {
  int exec_mode;
  const char *id, *runtime, *runtime_root, *bundle, *process, *log, *exit_path, *socket;
  const char *rootfs_mount, *rootfs_cwd, *state_dir;
  int terminal, want_stdin, hybrid, foreground;
  long long log_max_size;
  int log_max_files;
  char *ports[MAX_PORTS];
  int nports;
} opt = {.log_max_size = 20 * 1024 * 1024, .log_max_files = 5};

static void die(const char *fmt, ...);
static void report_error(int exit_code, const char *fmt, ...);

// ---------- small helpers ----------
static int sync_fd = -1;

static void json_escape(char **out, const char *s, size_t n) {
  // Escapes bytes as JSON string content; invalid UTF-8 becomes U+FFFD as Go's encoder does.
  char *o = *out;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { *o++ = '\\'; *o++ = (char)c; i++; continue; }
    if (c == '\n') { *o++ = '\\'; *o++ = 'n'; i++; continue; }
    if (c == '\r') { *o++ = '\\'; *o++ = 'r'; i++; continue; }
    if (c == '\t') { *o++ = '\\'; *o++ = 't'; i++; continue; }
    if (c < 0x20 || c == 0x7f) { o += sprintf(o, "\\u%04x", c); i++; continue; }
    if (c < 0x80) { *o++ = (char)c; i++; continue; }
    size_t len = (c >= 0xf0 && c <= 0xf4) ? 4 : (c >= 0xe0) ? 3 : (c >= 0xc2 && c <= 0xdf) ? 2 : 0;
    int ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
    if (ok) { memcpy(o, s + i, len); o += len; i += len; }
    else { memcpy(o, "\\ufffd", 6); o += 6; i++; }
  }
  *out = o;
}

static void now_rfc3339(char buf[40]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + 19, 21, ".%09ldZ", ts.tv_nsec);
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { struct pollfd pf = {fd, POLLOUT, 0}; poll(&pf, 1, 1000); continue; }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void write_file_atomic(const char *path, const char *data) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  // No fsync: a power loss ends the container anyway, and the engine reads a missing record as a
  // monitor that died (Docker's json-file logger does not fsync either).
  write_all(fd, data, strlen(data));
  close(fd);
  rename(tmp, path);
}

static void report(const char *json_line) {
  if (sync_fd < 0) return;
  write_all(sync_fd, json_line, strlen(json_line));
  close(sync_fd);
  sync_fd = -1;
}

static void report_error(int exit_code, const char *fmt, ...) {
  char msg[2048], esc[2048 * 6 + 64], line[2048 * 6 + 128], *e = esc;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_escape(&e, msg, strlen(msg));
  *e = 0;
  snprintf(line, sizeof line, "{\"error\":\"%s\",\"exitCode\":%d}\n", esc, exit_code);
  report(line);
}

static void die(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "silo-monitor: %s\n", msg);
  report_error(125, "%s", msg);
  exit(125);
}

// ---------- the log ----------
static int log_fd = -1;
static long long log_size = 0;

static void log_open(void) {
  log_fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) die("cannot open log %s: %s", opt.log, strerror(errno));
  struct stat st;
  log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

static void log_rotate(void) {
  // FILE.(n-1) -> FILE.n ... FILE -> FILE.1, then a new FILE. Readers finish the old inode first.
  char from[4096], to[4096];
  for (int i = opt.log_max_files - 1; i >= 1; i--) {
    snprintf(from, sizeof from, i == 1 ? "%s" : "%s.%d", opt.log, i - 1);
    snprintf(to, sizeof to, "%s.%d", opt.log, i);
    rename(from, to);
  }
  close(log_fd);
  log_open();
}

static void log_line(const char *stream, const char *data, size_t n) {
  static char buf[LINE_MAX_BYTES * 6 + 128];
  char ts[40], *o = buf;
  now_rfc3339(ts);
  o += sprintf(o, "{\"log\":\"");
  json_escape(&o, data, n);
  o += sprintf(o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
  size_t len = (size_t)(o - buf);
  if (opt.log_max_files > 1 && opt.log_max_size > 0 && log_size > 0 && log_size + (long long)len > opt.log_max_size)
    log_rotate();
  if (write_all(log_fd, buf, len) == 0) log_size += (long long)len;
}

// One pending partial line per stream: lines are logged whole, split only past LINE_MAX_BYTES.
struct stream_buf { const char *name; int fd; size_t len; char data[LINE_MAX_BYTES]; };

static void stream_feed(struct stream_buf *s, const char *p, size_t n) {
  while (n > 0) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    size_t room = LINE_MAX_BYTES - s->len;
    if (take > room) take = room;
    memcpy(s->data + s->len, p, take);
    s->len += take;
    p += take;
    n -= take;
    if (s->data[s->len - 1] == '\n' || s->len == LINE_MAX_BYTES) {
      log_line(s->name, s->data, s->len);
      s->len = 0;
    }
  }
}

static void stream_flush(struct stream_buf *s) {
  if (s->len) log_line(s->name, s->data, s->len);
  s->len = 0;
}

// ---------- running the OCI runtime ----------
static char runtime_log[4096];

static pid_t spawn_runtime(char *const argv[], int in, int out, int err) {
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    if (in >= 0) dup2(in, 0);
    if (out >= 0) dup2(out, 1);
    if (err >= 0) dup2(err, 2);
    if (opt.exec_mode && opt.terminal) {
      // `crun exec` releases the new process, then sets its tty to process.json's consoleSize (crun
      // container.c, libcrun_container_exec_with_options: write(pipefd0) before libcrun_terminal_setup_size),
      // so a process that reads its size at once saw 0x0 about 1 time in 6 here: the woken child
      // preempts its parent. Run this short-lived crun as real-time so the child it releases cannot
      // preempt it before those few syscalls; SCHED_RESET_ON_FORK keeps every process crun forks (the
      // container's) at SCHED_OTHER. Best effort: without CAP_SYS_NICE or RT budget nothing changes.
      struct sched_param sp = {.sched_priority = 1};
      sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static int wait_child(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The runtime's last error message, from its --log file (crun/runc write plain or JSON lines).
static void runtime_last_error(char *out, size_t cap) {
  out[0] = 0;
  FILE *f = fopen(runtime_log, "r");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
    if (l) snprintf(out, cap, "%s", line);
  }
  fclose(f);
}

static int run_runtime_simple(const char *verb, const char *a1, const char *a2) {
  char root_arg[4200], log_arg[4200];
  snprintf(root_arg, sizeof root_arg, "--root=%s", opt.runtime_root);
  snprintf(log_arg, sizeof log_arg, "--log=%s", runtime_log);
  char *argv[] = {(char *)opt.runtime, root_arg, log_arg, (char *)verb, (char *)a1, (char *)a2, NULL};
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int rc = wait_child(spawn_runtime(argv, devnull, devnull, devnull));
  close(devnull);
  return rc;
}

// ---------- host setup: a private mount namespace ----------
static void setup_mount_namespace(void) {
  // Mounts made here (the container's overlay root) vanish with this process, never leak to the host.
  if (unshare(CLONE_NEWNS) < 0) die("unshare(CLONE_NEWNS): %s (Silo needs root)", strerror(errno));
  if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private: %s", strerror(errno));
  // crun refuses hybrid cgroup hosts (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified);
  // hiding the unified mount in this namespace makes the host look pure v1 (reference/offline-testing.md).
  if (opt.hybrid) umount2("/sys/fs/cgroup/unified", MNT_DETACH);
  if (opt.rootfs_mount) {
    char target[4096];
    snprintf(target, sizeof target, "%s/rootfs", opt.bundle);
    // Lower dirs are given relative to --rootfs-cwd so long layer chains fit in one page of options.
    if (opt.rootfs_cwd && chdir(opt.rootfs_cwd) < 0) die("chdir %s: %s", opt.rootfs_cwd, strerror(errno));
    if (mount("overlay", target, "overlay", 0, opt.rootfs_mount) < 0)
      die("mount overlay root: %s (is the overlay module available?)", strerror(errno));
    if (chdir("/") < 0) die("chdir /: %s", strerror(errno));
  }
}

// ---------- the console socket (pty) ----------
static int recv_fd(int sock) {
  char buf[256];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int listen_unix(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) die("socket path too long: %s", path);
  strcpy(a.sun_path, path);
  unlink(path);
  mode_t old = umask(0077); // owner-only, like the engine socket
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind %s: %s", path, strerror(errno));
  umask(old);
  if (listen(s, 16) < 0) die("listen %s: %s", path, strerror(errno));
  return s;
}

// ---------- cgroup facts for the exit record ----------
static char oom_file[4096];
static int oom_v2, oom_fd = -1, oom_killed;
static unsigned long long oom_events;

static void find_oom_file(pid_t pid) {
  char path[64], line[4096];
  snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    const char *ctrls = c1 + 1, *cg = c2 + 1;
    if (strstr(ctrls, "memory")) {
      snprintf(oom_file, sizeof oom_file, "/sys/fs/cgroup/memory%s/memory.oom_control", cg);
      oom_v2 = 0;
      break;
    }
    if (line[0] == '0' && *ctrls == 0) { // cgroup v2 unified line "0::/path"
      snprintf(oom_file, sizeof oom_file, "/sys/fs/cgroup%s/memory.events", cg);
      oom_v2 = 1;
    }
  }
  fclose(f);
}

static int read_oom_kills(void) {
  if (!oom_file[0]) return 0;
  FILE *f = fopen(oom_file, "r");
  if (!f) return 0;
  char key[64];
  long long v;
  int kills = 0;
  while (fscanf(f, "%63s %lld", key, &v) == 2)
    if (strcmp(key, "oom_kill") == 0) kills = (int)v;
  fclose(f);
  return kills;
}

// A foreground crun removes the cgroup before it exits, so OOM kills are watched as they happen, the
// conmon way (conmon src/oom.c): cgroup v1 an eventfd registered on memory.oom_control (it fires at
// each OOM, Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control", and once more when the
// cgroup goes offline, mm/memcontrol.c mem_cgroup_css_offline); cgroup v2 inotify on memory.events,
// whose oom_kill counter the kernel bumps before it notifies. A runc (detached) cgroup outlives the
// process until `runc delete`, so there the counter is simply read at exit.
static void oom_watch(void) {
  if (!oom_file[0]) return;
  if (oom_v2) {
    oom_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (oom_fd >= 0 && inotify_add_watch(oom_fd, oom_file, IN_MODIFY) < 0) { close(oom_fd); oom_fd = -1; }
    return;
  }
  char ctl[4200];
  snprintf(ctl, sizeof ctl, "%s", oom_file);
  char *slash = strrchr(ctl, '/');
  if (!slash) return;
  strcpy(slash + 1, "cgroup.event_control");
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int ofd = open(oom_file, O_RDONLY | O_CLOEXEC);
  int cfd = open(ctl, O_WRONLY | O_CLOEXEC);
  char reg[64];
  int n = snprintf(reg, sizeof reg, "%d %d", efd, ofd);
  if (efd >= 0 && ofd >= 0 && cfd >= 0 && write(cfd, reg, (size_t)n) == n) oom_fd = efd;
  else if (efd >= 0) close(efd);
  if (ofd >= 0) close(ofd);
  if (cfd >= 0) close(cfd);
  // An OOM kill before the registration (the process ran before its pid was known) is in the counter.
  if (read_oom_kills() > 0) oom_killed = 1;
}

static void oom_check(void) {
  if (oom_fd < 0) return;
  if (oom_v2) {
    char buf[4096];
    while (read(oom_fd, buf, sizeof buf) > 0) {}
    if (read_oom_kills() > 0) oom_killed = 1;
    return;
  }
  uint64_t n;
  if (read(oom_fd, &n, sizeof n) != sizeof n) return;
  oom_events += n;
  // An event while the cgroup still exists is an OOM; the removal's event comes once it is gone.
  if (access(oom_file, F_OK) == 0 || oom_events >= 2) oom_killed = 1;
}

// ---------- port publishing: a userland proxy into the container's network namespace ----------
// A host listener accepts on HOSTIP:HOSTPORT; for each connection a socket is created inside the
// container's network namespace (setns, socket, setns back: a socket keeps the namespace it was made in)
// and connected to 127.0.0.1:CTRPORT there. Bytes are copied both ways. TCP only.
struct port { int listen_fd; int ctr_port; };
struct proxy { int a, b; };
static struct port ports[MAX_PORTS];
static int nports;
static struct proxy proxies[MAX_PROXIES];
static int host_netns = -1, ctr_netns = -1;

static void ports_listen(void) {
  for (int i = 0; i < opt.nports; i++) {
    // HOSTIP:HOSTPORT:CTRPORT; HOSTIP may be an IPv6 literal in brackets.
    char spec[256];
    snprintf(spec, sizeof spec, "%s", opt.ports[i]);
    char *last = strrchr(spec, ':');
    if (!last) die("bad --port %s", opt.ports[i]);
    *last = 0;
    char *mid = strrchr(spec, ':');
    if (!mid) die("bad --port %s", opt.ports[i]);
    *mid = 0;
    int ctr_port = atoi(last + 1), host_port = atoi(mid + 1);
    char *ip = spec;
    int v6 = ip[0] == '[';
    if (v6) { ip++; ip[strlen(ip) - 1] = 0; }
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (v6) {
      struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(host_port)};
      inet_pton(AF_INET6, ip, &a.sin6_addr);
      rc = bind(s, (struct sockaddr *)&a, sizeof a);
    } else {
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(host_port)};
      if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) die("bad host address in --port %s", opt.ports[i]);
      rc = bind(s, (struct sockaddr *)&a, sizeof a);
    }
    if (rc < 0 || listen(s, 64) < 0)
      report_error(125, "cannot publish port %s:%d: %s", ip, host_port, strerror(errno)), exit(125);
    ports[nports].listen_fd = s;
    ports[nports].ctr_port = ctr_port;
    nports++;
  }
}

static void ports_accept(struct port *p) {
  int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0) return;
  int slot = -1;
  for (int i = 0; i < MAX_PROXIES; i++)
    if (proxies[i].a == 0) { slot = i; break; }
  if (slot < 0 || ctr_netns < 0 || setns(ctr_netns, CLONE_NEWNET) < 0) { close(c); return; }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setns(host_netns, CLONE_NEWNET);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p->ctr_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A blocking connect on loopback inside the namespace answers at once (accepted or refused).
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) { close(c); if (s >= 0) close(s); return; }
  fcntl(s, F_SETFL, O_NONBLOCK);
  proxies[slot].a = c;
  proxies[slot].b = s;
}

static void proxy_close(struct proxy *x) {
  close(x->a);
  close(x->b);
  x->a = x->b = 0;
}

static void proxy_copy(struct proxy *x, int from) {
  char buf[65536];
  int to = from == x->a ? x->b : x->a;
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0 || write_all(to, buf, (size_t)n) < 0) proxy_close(x);
}

// ---------- main ----------
// The runtime's scratch files (pid file, log) for the exit record FILE: FILE.pid and FILE.runtime, or
// with --state-dir the same names in that directory (a tmpfs such as /run, where they cost less).
static void state_path(char *out, size_t cap, const char *suffix) {
  const char *base = strrchr(opt.exit_path, '/');
  if (opt.state_dir) snprintf(out, cap, "%s/%s.%s", opt.state_dir, base ? base + 1 : opt.exit_path, suffix);
  else snprintf(out, cap, "%s.%s", opt.exit_path, suffix);
}

static void parse_args(int argc, char **argv) {
  if (argc < 2) die("usage: silo-monitor create|exec [options]");
  opt.exec_mode = strcmp(argv[1], "exec") == 0;
  if (!opt.exec_mode && strcmp(argv[1], "create") != 0) die("unknown mode %s", argv[1]);
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL(name, field) else if (strcmp(a, name) == 0 && v) { opt.field = v; i++; }
    if (strcmp(a, "--terminal") == 0) opt.terminal = 1;
    else if (strcmp(a, "--stdin") == 0) opt.want_stdin = 1;
    else if (strcmp(a, "--hybrid-cgroups") == 0) opt.hybrid = 1;
    else if (strcmp(a, "--foreground") == 0) opt.foreground = 1;
    VAL("--id", id) VAL("--runtime", runtime) VAL("--runtime-root", runtime_root) VAL("--bundle", bundle)
    VAL("--process", process) VAL("--log", log) VAL("--exit", exit_path) VAL("--socket", socket)
    VAL("--rootfs-mount", rootfs_mount) VAL("--rootfs-cwd", rootfs_cwd) VAL("--state-dir", state_dir)
    else if (strcmp(a, "--log-max-size") == 0 && v) { opt.log_max_size = atoll(v); i++; }
    else if (strcmp(a, "--log-max-files") == 0 && v) { opt.log_max_files = atoi(v); i++; }
    else if (strcmp(a, "--port") == 0 && v && opt.nports < MAX_PORTS) { opt.ports[opt.nports++] = (char *)v; i++; }
    else die("unknown or incomplete option %s", a);
#undef VAL
  }
  if (!opt.id || !opt.runtime || !opt.runtime_root || !opt.log || !opt.exit_path || !opt.socket)
    die("missing one of --id --runtime --runtime-root --log --exit --socket");
  if (opt.exec_mode ? !opt.process : !opt.bundle) die("missing --bundle (create) or --process (exec)");
}

static int monitor_main(int argc, char **argv) {
  if (fcntl(3, F_GETFD) >= 0) { sync_fd = 3; fcntl(3, F_SETFD, FD_CLOEXEC); }
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  // The container's init (and an exec'd process) is reparented to us when the runtime exits, so
  // waitpid gives us its real exit status with no runtime process left resident.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  state_path(runtime_log, sizeof runtime_log, "runtime");
  unlink(runtime_log);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);

  if (!opt.exec_mode) setup_mount_namespace();
  else if (unshare(CLONE_NEWNS) == 0) {
    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (opt.hybrid) umount2("/sys/fs/cgroup/unified", MNT_DETACH);
  }
  log_open();
  int ctl = listen_unix(opt.socket);
  host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ports_listen();

  // stdio for the process: pipes, or a pty whose master end the runtime sends us.
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int console_listen = -1;
  char console_path[4200];
  if (opt.terminal) {
    // <name>.sock -> <name>.tty: no longer than the control socket's path, which the engine checked fits.
    snprintf(console_path, sizeof console_path, "%s", opt.socket);
    size_t cl = strlen(console_path);
    if (cl > 5 && strcmp(console_path + cl - 5, ".sock") == 0) strcpy(console_path + cl - 5, ".tty");
    else snprintf(console_path, sizeof console_path, "%s.tty", opt.socket);
    console_listen = listen_unix(console_path);
  } else {
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  }
  if (opt.want_stdin && !opt.terminal && pipe2(in_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

  char root_arg[4200], log_arg[4200], pid_file[4200], console_arg[4300];
  snprintf(root_arg, sizeof root_arg, "--root=%s", opt.runtime_root);
  snprintf(log_arg, sizeof log_arg, "--log=%s", runtime_log);
  state_path(pid_file, sizeof pid_file, "pid");
  snprintf(console_arg, sizeof console_arg, "--console-socket=%s", console_path);
  unlink(pid_file);
  char pid_arg[4300];
  snprintf(pid_arg, sizeof pid_arg, "--pid-file=%s", pid_file);
  char *argv_rt[16];
  int k = 0;
  argv_rt[k++] = (char *)opt.runtime;
  argv_rt[k++] = root_arg;
  argv_rt[k++] = log_arg;
  if (opt.exec_mode) {
    argv_rt[k++] = "exec";
    argv_rt[k++] = "--detach";
    argv_rt[k++] = "--process";
    argv_rt[k++] = (char *)opt.process;
  } else {
    // One runtime call creates and starts the container; it is reparented to us (the subreaper) when
    // the runtime exits, so waitpid still gives us its exit status.
    argv_rt[k++] = "run";
    if (!opt.foreground) argv_rt[k++] = "--detach";
    argv_rt[k++] = "--bundle";
    argv_rt[k++] = (char *)opt.bundle;
  }
  argv_rt[k++] = pid_arg;
  if (opt.terminal) argv_rt[k++] = console_arg;
  argv_rt[k++] = (char *)opt.id;
  argv_rt[k] = NULL;

  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  // Foreground: crun writes the pid file once the container exists and then stays; watch for it.
  char pid_dir[4200];
  snprintf(pid_dir, sizeof pid_dir, "%s", pid_file);
  char *pid_slash = strrchr(pid_dir, '/');
  if (pid_slash) *pid_slash = 0;
  int pid_watch = -1;
  if (opt.foreground) {
    pid_watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (pid_watch < 0 || inotify_add_watch(pid_watch, pid_slash ? pid_dir : ".", IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
      die("inotify: %s", strerror(errno));
  }
  pid_t rt = spawn_runtime(argv_rt, in_pipe[0] >= 0 ? in_pipe[0] : devnull, opt.terminal ? devnull : out_pipe[1],
                           opt.terminal ? devnull : err_pipe[1]);
  pid_t pid = 0;
  int rc = 0, exited = 0, status = 0;
  struct timespec exit_at = {0};
  if (opt.foreground) {
    for (;;) {
      FILE *pf = fopen(pid_file, "r");
      if (pf) {
        if (fscanf(pf, "%d", &pid) != 1) pid = 0;
        fclose(pf);
      }
      if (pid > 0 || exited) break;
      struct pollfd w[2] = {{pid_watch, POLLIN, 0}, {sfd, POLLIN, 0}};
      if (poll(w, 2, -1) < 0 && errno != EINTR) die("poll: %s", strerror(errno));
      if (w[0].revents & POLLIN) {
        char buf[4096];
        while (read(pid_watch, buf, sizeof buf) > 0) {}
      }
      if (w[1].revents & POLLIN) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGCHLD && waitpid(rt, &status, WNOHANG) == rt) {
          exited = 1;
          clock_gettime(CLOCK_MONOTONIC, &exit_at);
        }
      }
    }
    // pid_watch stays open: closing an inotify instance waits for an SRCU grace period
    // (fsnotify_destroy_group), which cost milliseconds right where the engine waits for the pid.
    // No pid: crun failed before the container existed.
    if (pid <= 0) rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (pid <= 0 && rc == 0) rc = 1;
  } else {
    rc = wait_child(rt);
  }
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  if (out_pipe[1] >= 0) { close(out_pipe[1]); close(err_pipe[1]); }
  if (rc != 0) {
    char msg[4096];
    runtime_last_error(msg, sizeof msg);
    if (!opt.exec_mode) run_runtime_simple("delete", "--force", opt.id);
    report_error(rc == 127 ? 127 : 126, "%s", msg[0] ? msg : "the OCI runtime failed to create the container");
    unlink(opt.socket);
    return 1;
  }

  int pty = -1;
  if (opt.terminal) {
    int c = accept4(console_listen, NULL, NULL, SOCK_CLOEXEC);
    pty = c >= 0 ? recv_fd(c) : -1;
    if (c >= 0) close(c);
    close(console_listen);
    unlink(console_path);
    if (pty < 0) die("did not receive the terminal from the runtime");
  }

  if (!opt.foreground) {
    FILE *pf = fopen(pid_file, "r");
    if (!pf || fscanf(pf, "%d", &pid) != 1 || pid <= 0) die("the runtime wrote no pid file");
    fclose(pf);
  }
  // The engine waits for this line; what follows it can be done while the engine goes on.
  char line[64];
  snprintf(line, sizeof line, "{\"pid\":%d}\n", pid);
  report(line);
  find_oom_file(pid);
  if (opt.foreground) oom_watch();
  if (nports) {
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%d/ns/net", pid);
    ctr_netns = open(ns, O_RDONLY | O_CLOEXEC);
  }
  // The process whose end is the container's: crun itself in the foreground, else the init.
  pid_t watched = opt.foreground ? rt : pid;

  // From here on we are on our own: the engine may come and go.
  if (devnull > 2) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }

  static struct stream_buf out_s = {"stdout", -1, 0, {0}}, err_s = {"stderr", -1, 0, {0}};
  out_s.fd = opt.terminal ? pty : out_pipe[0];
  err_s.fd = opt.terminal ? -1 : err_pipe[0];
  int stdin_fd = opt.terminal ? (opt.want_stdin ? pty : -1) : in_pipe[1];
  int clients[MAX_CLIENTS];
  // Partial frames from a client: type + length + payload up to 64 KiB.
  static unsigned char cbuf[MAX_CLIENTS][65536 + 5];
  size_t clen[MAX_CLIENTS];
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i] = -1, clen[i] = 0;

  for (;;) {
    struct pollfd pfds[5 + MAX_CLIENTS + MAX_PORTS + 2 * MAX_PROXIES];
    int n = 0;
    pfds[n++] = (struct pollfd){sfd, POLLIN, 0};
    pfds[n++] = (struct pollfd){ctl, POLLIN, 0};
    pfds[n++] = (struct pollfd){out_s.fd, POLLIN, 0};
    pfds[n++] = (struct pollfd){err_s.fd, POLLIN, 0};
    for (int i = 0; i < MAX_CLIENTS; i++) pfds[n++] = (struct pollfd){clients[i], POLLIN, 0};
    for (int i = 0; i < nports; i++) pfds[n++] = (struct pollfd){ports[i].listen_fd, POLLIN, 0};
    for (int i = 0; i < MAX_PROXIES; i++) {
      pfds[n++] = (struct pollfd){proxies[i].a ? proxies[i].a : -1, POLLIN, 0};
      pfds[n++] = (struct pollfd){proxies[i].b ? proxies[i].b : -1, POLLIN, 0};
    }
    int oom_slot = n;
    pfds[n++] = (struct pollfd){oom_fd, POLLIN, 0};
    // After the process exits, drain its output for a moment: a grandchild may still hold the pipe.
    int timeout = exited ? 200 : -1;
    int r = poll(pfds, (nfds_t)n, timeout);
    if (r < 0 && errno != EINTR) break;

    if (pfds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int st;
          pid_t w;
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == watched) { exited = 1; status = st; clock_gettime(CLOCK_MONOTONIC, &exit_at); }
        } else if (!exited) {
          kill(pid, (int)si.ssi_signo); // a signal to the monitor is meant for the container
        }
      }
    }
    if (pfds[1].revents & POLLIN) {
      int c = accept4(ctl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) {
        int placed = 0;
        for (int i = 0; i < MAX_CLIENTS && !placed; i++)
          if (clients[i] < 0) { clients[i] = c; clen[i] = 0; placed = 1; }
        if (!placed) close(c);
      }
    }
    struct stream_buf *streams[2] = {&out_s, &err_s};
    for (int s = 0; s < 2; s++) {
      if (!(pfds[2 + s].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t got = read(streams[s]->fd, buf, sizeof buf);
      if (got > 0) stream_feed(streams[s], buf, (size_t)got);
      else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        stream_flush(streams[s]);
        if (streams[s]->fd != stdin_fd) close(streams[s]->fd);
        streams[s]->fd = -1;
      }
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      if (clients[i] < 0 || !(pfds[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(clients[i], cbuf[i] + clen[i], sizeof cbuf[i] - clen[i]);
      if (got <= 0) { close(clients[i]); clients[i] = -1; continue; }
      clen[i] += (size_t)got;
      for (;;) {
        if (clen[i] < 5) break;
        uint32_t len = ((uint32_t)cbuf[i][1] << 24) | ((uint32_t)cbuf[i][2] << 16) | ((uint32_t)cbuf[i][3] << 8) | cbuf[i][4];
        if (len > 65536) { close(clients[i]); clients[i] = -1; break; }
        if (clen[i] < 5 + len) break;
        unsigned char type = cbuf[i][0], *p = cbuf[i] + 5;
        if (type == 1 && stdin_fd >= 0) write_all(stdin_fd, p, len);
        else if (type == 2 && stdin_fd >= 0 && !opt.terminal) { close(stdin_fd); stdin_fd = -1; }
        else if (type == 2 && opt.terminal && stdin_fd >= 0) { char eot = 4; write_all(stdin_fd, &eot, 1); }
        else if (type == 3 && pty >= 0 && len >= 4) {
          struct winsize ws = {.ws_row = (unsigned short)((p[0] << 8) | p[1]), .ws_col = (unsigned short)((p[2] << 8) | p[3])};
          ioctl(pty, TIOCSWINSZ, &ws);
        } else if (type == 4 && len >= 4 && !exited) {
          kill(pid, (int)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]));
        }
        memmove(cbuf[i], cbuf[i] + 5 + len, clen[i] - 5 - len);
        clen[i] -= 5 + len;
      }
    }
    int base = 4 + MAX_CLIENTS;
    for (int i = 0; i < nports; i++)
      if (pfds[base + i].revents & POLLIN) ports_accept(&ports[i]);
    base += nports;
    for (int i = 0; i < MAX_PROXIES; i++) {
      if (proxies[i].a && (pfds[base + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))) proxy_copy(&proxies[i], proxies[i].a);
      if (proxies[i].a && (pfds[base + 2 * i + 1].revents & (POLLIN | POLLHUP | POLLERR))) proxy_copy(&proxies[i], proxies[i].b);
    }

    if (pfds[oom_slot].revents & POLLIN) oom_check();

    if (exited) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long waited_ms = (now.tv_sec - exit_at.tv_sec) * 1000 + (now.tv_nsec - exit_at.tv_nsec) / 1000000;
      if ((out_s.fd < 0 && err_s.fd < 0) || waited_ms > 2000 || (opt.terminal && r == 0)) break;
    }
  }
  stream_flush(&out_s);
  stream_flush(&err_s);
  oom_check(); // an event that came while the output drained

  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (opt.foreground && code > 128 && code < 128 + 65) signo = code - 128; // crun's 128+n
  char sig[32] = "null", ts[40], exit_json[256];
  if (signo) snprintf(sig, sizeof sig, "\"SIG%s\"", sigabbrev_np(signo) ? sigabbrev_np(signo) : "UNKNOWN");
  int oom = oom_killed || read_oom_kills() > 0;
  // Release the root filesystem (the container's processes, its only other users, are gone) and the
  // runtime's state before the exit record says so: the engine then removes the snapshot at once.
  if (opt.rootfs_mount) {
    char target[4200];
    snprintf(target, sizeof target, "%s/rootfs", opt.bundle);
    if (umount2(target, 0) < 0) umount2(target, MNT_DETACH);
  }
  if (!opt.exec_mode && !opt.foreground) run_runtime_simple("delete", "--force", opt.id);
  now_rfc3339(ts);
  snprintf(exit_json, sizeof exit_json, "{\"exitCode\":%d,\"signal\":%s,\"oomKilled\":%s,\"finishedAt\":\"%s\",\"released\":true}\n",
           code, sig, oom ? "true" : "false", ts);
  // The shared paths go as the exit becomes known: the engine may start the container again at once,
  // and its new monitor waits for the same pid file and binds the same socket. The socket goes only
  // after the exit record, so an engine that can no longer connect always finds the record.
  unlink(pid_file);
  write_file_atomic(opt.exit_path, exit_json);
  unlink(opt.socket);
  size_t jl = strlen(exit_json);
  unsigned char hdr[5] = {5, (unsigned char)(jl >> 24), (unsigned char)(jl >> 16), (unsigned char)(jl >> 8), (unsigned char)jl};
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i] < 0) continue;
    fcntl(clients[i], F_SETFL, 0);
    write_all(clients[i], hdr, 5);
    write_all(clients[i], exit_json, jl);
    close(clients[i]);
  }
  return 0;
}

// ---------- the launcher ----------
// `silo-monitor --launcher`, started once by the engine: forks monitors on request, so starting one
// costs a fork of this small process, not a spawn from the engine's (fork copies the parent's page
// tables: about 2 ms from a 60-90 MB Node process, most of it blocking the event loop, against 0.5 ms
// for a whole launch round trip here), and no exec (the child runs the monitor's main directly). Each
// monitor is what a detached spawn made: its own session, stdin /dev/null, stdout and stderr the
// monitor log, fd 3 its start-up report, default signal state, no other fd. It outlives the launcher,
// which dies with the engine (stdin at EOF, or PR_SET_PDEATHSIG).
// Frames both ways: [length u32 BE][payload].
//   request: NUL-terminated strings: request id, monitor log path, then the monitor's arguments.
//   reply:   first "0\tLAUNCHER_PID\t" (ready), then per request
//            "ID\tPID\tREPORT" once the report pipe is closed (REPORT the monitor's first line, maybe
//            empty); for a monitor that did not start, only once it has exited, so that its mount
//            namespace (holding the root filesystem) is gone when the engine hears of the failure.
#define LAUNCH_MAX 64
#define LAUNCH_ARGS 512

static char *launcher_arg; // the launcher's own "--launcher" argument, in its argv memory

static struct launch {
  pid_t pid;
  int fd, exited;
  size_t len;
  char id[64], report[4096];
} launches[LAUNCH_MAX];

static void launch_reply(struct launch *l) {
  char buf[4 + 64 + 24 + sizeof l->report];
  size_t rl = l->len;
  while (rl && (l->report[rl - 1] == '\n' || l->report[rl - 1] == '\r')) rl--;
  char *nl = memchr(l->report, '\n', rl);
  if (nl) rl = (size_t)(nl - l->report); // the first line only
  int n = snprintf(buf + 4, sizeof buf - 4, "%s\t%d\t%.*s", l->id, (int)l->pid, (int)rl, l->report);
  if (n < 0) n = 0;
  if ((size_t)n > sizeof buf - 5) n = (int)(sizeof buf - 5);
  buf[0] = (char)((unsigned)n >> 24); buf[1] = (char)((unsigned)n >> 16); buf[2] = (char)((unsigned)n >> 8); buf[3] = (char)n;
  if (write_all(1, buf, (size_t)n + 4) < 0) exit(0); // the engine is gone
  if (l->fd >= 0) close(l->fd);
  l->pid = 0;
  l->fd = -1;
}

static int launch_started(const struct launch *l) { return l->len > 7 && strncmp(l->report, "{\"pid\":", 7) == 0; }

static void launch_fail(const char *id, const char *what) {
  struct launch l = {.pid = 0, .fd = -1};
  snprintf(l.id, sizeof l.id, "%s", id);
  char esc[1024 * 6 + 1], *e = esc;
  json_escape(&e, what, strlen(what) > 1024 ? 1024 : strlen(what));
  *e = 0;
  l.len = (size_t)snprintf(l.report, sizeof l.report, "{\"error\":\"%s\",\"exitCode\":125}", esc);
  if (l.len >= sizeof l.report) l.len = sizeof l.report - 1;
  launch_reply(&l);
}

static void launch(char *payload, size_t n) {
  char *f[LAUNCH_ARGS];
  int k = 0;
  for (size_t off = 0; off < n && k < LAUNCH_ARGS - 1;) {
    f[k++] = payload + off;
    off += strlen(payload + off) + 1;
  }
  if (k < 3) { launch_fail(k ? f[0] : "", "malformed launch request"); return; }
  struct launch *l = NULL;
  for (int i = 0; i < LAUNCH_MAX && !l; i++)
    if (launches[i].pid == 0) l = &launches[i];
  char msg[4400];
  if (!l) { launch_fail(f[0], "too many monitors starting at once"); return; }
  int log = open(f[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (log < 0) { snprintf(msg, sizeof msg, "cannot open %s: %s", f[1], strerror(errno)); launch_fail(f[0], msg); return; }
  int rp[2];
  if (pipe2(rp, O_CLOEXEC) < 0) { close(log); snprintf(msg, sizeof msg, "pipe: %s", strerror(errno)); launch_fail(f[0], msg); return; }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    dup2(rp[1], 3);
    close_range(4, ~0U, 0);
    // f[2..] are the monitor's arguments; argv[0] names it as an exec would, and ps shows the mode
    // (create or exec) where the launcher's "--launcher" was: /proc/PID/cmdline reads that memory.
    if (launcher_arg) {
      size_t room = strlen(launcher_arg);
      memset(launcher_arg, 0, room);
      memcpy(launcher_arg, f[2], strlen(f[2]) < room ? strlen(f[2]) : room);
    }
    f[1] = "silo-monitor";
    f[k] = NULL;
    exit(monitor_main(k - 1, f + 1));
  }
  close(log);
  close(rp[1]);
  if (pid < 0) { close(rp[0]); snprintf(msg, sizeof msg, "fork: %s", strerror(errno)); launch_fail(f[0], msg); return; }
  *l = (struct launch){.pid = pid, .fd = rp[0], .exited = 0, .len = 0};
  snprintf(l->id, sizeof l->id, "%s", f[0]);
}

static int launcher_main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 0; // the engine died before the line above
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  for (int i = 0; i < LAUNCH_MAX; i++) launches[i].fd = -1;
  // Ready (request id 0), before any request is read: an engine that sees the launcher end without
  // this line knows no monitor was forked and may spawn them itself.
  struct launch hello = {.pid = getpid(), .fd = -1, .id = "0"};
  launch_reply(&hello);
  static char in[1 << 18];
  size_t inlen = 0;
  for (;;) {
    struct pollfd pfds[2 + LAUNCH_MAX];
    pfds[0] = (struct pollfd){0, POLLIN, 0};
    pfds[1] = (struct pollfd){sfd, POLLIN, 0};
    for (int i = 0; i < LAUNCH_MAX; i++) pfds[2 + i] = (struct pollfd){launches[i].pid ? launches[i].fd : -1, POLLIN, 0};
    if (poll(pfds, 2 + LAUNCH_MAX, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(0, in + inlen, sizeof in - inlen);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return 0; // the engine is gone
      if (got > 0) inlen += (size_t)got;
      while (inlen >= 4) {
        uint32_t len = ((uint32_t)(unsigned char)in[0] << 24) | ((uint32_t)(unsigned char)in[1] << 16) | ((uint32_t)(unsigned char)in[2] << 8) | (unsigned char)in[3];
        if (len == 0 || len > sizeof in - 4) return 1; // not the engine speaking
        if (inlen < 4 + len) break;
        if (in[4 + len - 1] == 0) launch(in + 4, len);
        else launch_fail("", "malformed launch request");
        memmove(in, in + 4 + len, inlen - 4 - len);
        inlen -= 4 + len;
      }
    }
    if (pfds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      int st;
      pid_t w;
      // Every monitor is our child until it ends (or we do): reap them all.
      while ((w = waitpid(-1, &st, WNOHANG)) > 0)
        for (int i = 0; i < LAUNCH_MAX; i++)
          if (launches[i].pid == w) {
            launches[i].exited = 1;
            if (launches[i].fd < 0) launch_reply(&launches[i]);
          }
    }
    for (int i = 0; i < LAUNCH_MAX; i++) {
      struct launch *l = &launches[i];
      if (!l->pid || l->fd < 0 || !(pfds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(l->fd, l->report + l->len, sizeof l->report - 1 - l->len);
      if (got > 0) { l->len += (size_t)got; if (l->len < sizeof l->report - 1) continue; }
      else if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      // The report is complete (the pipe closed): a started monitor is answered now, one that failed
      // once it has exited.
      close(l->fd);
      l->fd = -1;
      if (launch_started(l) || l->exited) launch_reply(l);
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--launcher") == 0) {
    launcher_arg = argv[1];
    return launcher_main();
  }
  return monitor_main(argc, argv);
}

#ifndef CNCURSESW_SHIM_H
#define CNCURSESW_SHIM_H
/*
 * ncursesw binding for Swift (see ../shared/reference/terminal-ui.md).
 *
 * SwiftPM drops pkg-config's -D flags, so the wide-character API is switched on here.
 * Function-like macros (COLOR_PAIR, getmaxyx, A_*, KEY_F, WACS_*) and the C globals that Swift 6
 * rejects as shared mutable state (stdscr, LINES, COLS, COLORS) are reached through the
 * static inline functions below. Only FlowTerminal's CursesBackend calls these.
 */
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <poll.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <pty.h>
#include <pthread.h>
#include <ncursesw/curses.h>

/* ---- globals ---- */
static inline WINDOW *cnc_stdscr(void) { return stdscr; }
static inline int cnc_lines(void) { return LINES; }
static inline int cnc_cols(void) { return COLS; }
static inline int cnc_colors(void) { return COLORS; }
static inline int cnc_color_pairs(void) { return COLOR_PAIRS; }
static inline FILE *cnc_stdout(void) { return stdout; }
static inline FILE *cnc_stdin(void) { return stdin; }

/* ---- macros ---- */
static inline attr_t cnc_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline int cnc_pair_number(attr_t a) { return (int)PAIR_NUMBER(a); }
static inline void cnc_getmaxyx(WINDOW *w, int *y, int *x) {
    int yy = 0, xx = 0;
    getmaxyx(w, yy, xx);
    *y = yy; *x = xx;
}
static inline attr_t cnc_a_normal(void) { return A_NORMAL; }
static inline attr_t cnc_a_bold(void) { return A_BOLD; }
static inline attr_t cnc_a_reverse(void) { return A_REVERSE; }
static inline attr_t cnc_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cnc_a_dim(void) { return A_DIM; }
static inline attr_t cnc_a_standout(void) { return A_STANDOUT; }
static inline int cnc_key_f(int n) { return KEY_F(n); }

/* WACS_* point into a table filled by initscr/newterm: call these only after the screen starts. */
static inline const cchar_t *cnc_wacs_hline(void) { return WACS_HLINE; }
static inline const cchar_t *cnc_wacs_vline(void) { return WACS_VLINE; }
static inline const cchar_t *cnc_wacs_ulcorner(void) { return WACS_ULCORNER; }
static inline const cchar_t *cnc_wacs_urcorner(void) { return WACS_URCORNER; }
static inline const cchar_t *cnc_wacs_llcorner(void) { return WACS_LLCORNER; }
static inline const cchar_t *cnc_wacs_lrcorner(void) { return WACS_LRCORNER; }

/* ---- terminfo ---- */
/* 1 when the current terminal's type has enter_ca_mode (smcup): ncurses then draws on the
   terminal's alternate screen and endwin leaves it. Call only while the screen is current. */
static inline int cnc_has_alternate_screen(void) {
    const char *s = tigetstr("smcup");
    return s != NULL && s != (const char *)-1 && s[0] != '\0';
}

/* ---- locale ---- */
/* 1 when the current LC_CTYPE codeset is UTF-8. */
static inline int cnc_codeset_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    if (!cs) return 0;
    return strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0;
}

/* Signals are handled in Swift (FlowTerminal/Signals.swift): static state in this header would
   be duplicated in every object file that includes it. */
static inline void cnc_raise(int sig) { raise(sig); }
/* Unblocks SIGWINCH, SIGINT, SIGTERM and SIGHUP for the calling thread (the one that owns the
   terminal), so they reach its handlers even if a runtime blocked them. */
static inline void cnc_unblock_terminal_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- pseudo-terminals (headless tests, benchmarks) ---- */
static inline int cnc_set_winsize(int fd, int rows, int cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = (unsigned short)rows;
    ws.ws_col = (unsigned short)cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}
/* Reads the window size of a terminal fd; returns 0 on success. */
static inline int cnc_get_winsize(int fd, int *rows, int *cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
    *rows = ws.ws_row; *cols = ws.ws_col;
    return 0;
}
/* Opens a pty pair. Returns 0 and fills master/slave, or -1. */
static inline int cnc_open_pty(int *master, int *slave, int rows, int cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = (unsigned short)rows;
    ws.ws_col = (unsigned short)cols;
    int m = -1, s = -1;
    if (openpty(&m, &s, NULL, NULL, &ws) != 0) return -errno;
    int flags = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, flags | O_NONBLOCK);
    *master = m; *slave = s;
    return 0;
}
/* Non-blocking read; returns bytes read, 0 when nothing is available, -1 on error/EOF. */
static inline long cnc_read_available(int fd, void *buf, unsigned long len) {
    ssize_t n = read(fd, buf, len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    if (n == 0) return -1;
    return (long)n;
}
/* Waits up to timeout_ms for fd to be readable: 1 readable, 0 timeout, -1 error. */
static inline int cnc_poll_readable(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd; p.events = POLLIN; p.revents = 0;
    int r = poll(&p, 1, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -1;
    if (r == 0) return 0;
    return (p.revents & (POLLIN | POLLHUP)) ? 1 : 0;
}
#endif

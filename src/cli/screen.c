/* The terminal, taken as a full-screen program (less, top) takes it: the alternate screen, so
   that the shell's lines are back when it ends; keys read one at a time; and stderr held back
   while the screen is ours. Given back as it was found. */
#include "cli/screen.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

void tl_screen_enter(tl_screen *s)
{
    struct termios raw;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved) == 0) {
        raw = s->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C and Ctrl-Z still work */
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        s->keys = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
    }
    s->err_held = memfd_create("threadleak-stderr", MFD_CLOEXEC);
    s->err_saved = s->err_held >= 0 ? dup(STDERR_FILENO) : -1;
    if (s->err_saved >= 0)
        dup2(s->err_held, STDERR_FILENO);
    fputs("\033[?1049h\033[?25l", stdout);
    fflush(stdout);
    s->on = true;
}

void tl_screen_leave(tl_screen *s)
{
    if (!s->on)
        return;
    fputs("\033[?25h\033[?1049l", stdout);
    fflush(stdout);
    if (s->keys)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &s->saved);
    if (s->err_saved >= 0) {
        fflush(stderr);
        dup2(s->err_saved, STDERR_FILENO);
        close(s->err_saved);
        char buf[4096];
        ssize_t n;
        for (off_t at = 0; (n = pread(s->err_held, buf, sizeof buf, at)) > 0; at += n)
            if (write(STDERR_FILENO, buf, (size_t)n) < 0)
                break;
    }
    if (s->err_held >= 0)
        close(s->err_held);
    *s = (tl_screen){0};
}

void tl_screen_size(int *width, int *height)
{
    struct winsize ws;
    bool known = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row;
    *width = known ? ws.ws_col : 80;
    *height = known ? ws.ws_row : 24;
}

/* The terminal, taken as a full-screen program takes it, and given back as it was found. */
#ifndef TL_CLI_SCREEN_H
#define TL_CLI_SCREEN_H

#include <stdbool.h>
#include <termios.h>

typedef struct tl_screen {
    bool on;   /* the alternate screen is ours */
    bool keys; /* stdin is a terminal set unbuffered: keys come one at a time, unechoed */
    struct termios saved;
    int err_saved; /* stderr, while it goes to err_held */
    int err_held;
} tl_screen;

/* The alternate screen, no cursor; stdin unbuffered when it is a terminal; stderr held back, as
   what is written there meanwhile would go with the screen. */
void tl_screen_enter(tl_screen *s);
/* The terminal as it was, then what stderr was given meanwhile. Nothing if not entered. */
void tl_screen_leave(tl_screen *s);
void tl_screen_size(int *width, int *height); /* 80 x 24 when the terminal does not say */

#endif

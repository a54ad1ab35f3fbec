#include "report/strings.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNK = 16384 };

struct tl_strings {
    tl_strings *next; /* the chunks filled before this one */
    size_t used, size;
    char text[];
};

const char *tl_strings_add(tl_strings **s, const char *text)
{
    size_t len = strlen(text) + 1;
    if (len == 1)
        return "";
    if (!*s || (*s)->size - (*s)->used < len) {
        size_t size = len > CHUNK ? len : CHUNK;
        tl_strings *chunk = malloc(sizeof *chunk + size);
        if (!chunk)
            return "";
        *chunk = (tl_strings){.next = *s, .size = size};
        *s = chunk;
    }
    char *copy = memcpy((*s)->text + (*s)->used, text, len);
    (*s)->used += len;
    return copy;
}

void tl_strings_free(tl_strings *s)
{
    while (s) {
        tl_strings *next = s->next;
        free(s);
        s = next;
    }
}

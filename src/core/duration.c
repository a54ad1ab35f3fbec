/* Durations: a count of decimal digits and a unit. */
#include "core/duration.h"

#include <string.h>

bool tl_duration_parse(const char *s, size_t len, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t n = strlen(units[i].suffix), digits = len - n;
        if (len <= n || memcmp(s + digits, units[i].suffix, n) != 0 || digits > 9)
            continue;
        uint64_t count = 0;
        size_t j = 0;
        while (j < digits && s[j] >= '0' && s[j] <= '9')
            count = count * 10 + (uint64_t)(s[j++] - '0');
        if (j == digits && count <= 100000000) {
            *ms = count * units[i].ms;
            return true;
        }
    }
    return false;
}

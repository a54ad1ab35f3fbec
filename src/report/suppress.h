/* Suppressions: rules that hide threads from reports. */
#ifndef TL_REPORT_SUPPRESS_H
#define TL_REPORT_SUPPRESS_H

#include "report/symbols.h"

typedef struct tl_rules tl_rules;
struct tl_report;
struct tl_row;

/* Adds the rules in text (a file's contents), naming source in the warning for a malformed line.
   false when a line was malformed or memory ran out. */
bool tl_rules_add(tl_rules **rules, const char *text, const char *source);
void tl_rules_free(tl_rules *rules);
bool tl_rules_match(const tl_rules *rules, struct tl_report *r, const struct tl_row *row);
/* The suppressions option's file, read at the first report that needs it. */
const tl_rules *tl_rules_of_file(void);

#endif

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
/* Whether a name: rule hides a thread of this name: known before any stack is unwound or named. */
bool tl_rules_match_name(const tl_rules *rules, const char *name);
/* The process's rules: the suppressions option's file, and the default suppressions installed
   with the library unless default_suppressions=0. Read at the first report that needs them. */
const tl_rules *tl_rules_of_process(void);

#endif

/* Resources a program made and never gave back: timers not deleted, pipes and message queues not
   closed, each with the stack that made it; and glibc's SIGEV_THREAD helper thread, which serves
   the timers. Pipes and queues are descriptors: the descriptor table keeps them (fdtable.h). */
#ifndef TL_CORE_RESOURCE_H
#define TL_CORE_RESOURCE_H

#include "core/stack.h"

#include <time.h>

typedef enum { TL_RES_TIMER, TL_RES_PIPE, TL_RES_MQUEUE } tl_res_kind;
typedef struct tl_resource_group {
    tl_res_kind kind;
    const tl_stack *created_at;
    size_t count;
} tl_resource_group;

void tl_timer_made(timer_t timer, const tl_stack *created_at);
void tl_timer_deleted(timer_t timer);
/* Every resource held now, grouped by kind and creation stack, largest first; malloc'd. */
size_t tl_resource_groups(tl_resource_group **groups);
bool tl_resource_none(void);
const char *tl_resource_kind_name(tl_res_kind kind);

/* glibc's SIGEV_THREAD helper thread, started inside the first such timer_create: found as the
   thread that call adds. */
bool tl_timer_helper_before(void); /* true: searching, call after */
void tl_timer_helper_after(bool searching, bool created);
pid_t tl_timer_helper(void); /* 0 when there is none */

void tl_resource_fork_prepare(void);
void tl_resource_fork_parent(void);
void tl_resource_fork_child(void);

#endif

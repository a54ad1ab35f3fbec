/* Resources a program made and never gave back: timers not deleted, pipes and message queues not
   closed, each with the stack that made it; and glibc's SIGEV_THREAD helper thread, which serves
   the timers. */
#ifndef TL_CORE_RESOURCE_H
#define TL_CORE_RESOURCE_H

#include "core/stack.h"

typedef enum { TL_RES_TIMER, TL_RES_PIPE, TL_RES_MQUEUE } tl_res_kind;
typedef struct tl_resource_group {
    tl_res_kind kind;
    const tl_stack *created_at;
    size_t count;
} tl_resource_group;

void tl_resource_add(tl_res_kind kind, uintptr_t id, const tl_stack *created_at);
/* Returns the pipe's serial number, which its descriptors share. */
unsigned tl_resource_pipe(const int fds[2], const tl_stack *created_at);
void tl_resource_remove(tl_res_kind kind, uintptr_t id);
void tl_resource_closed(int fd);       /* a descriptor closed: a pipe end or a queue, maybe */
void tl_resource_dup(int old, int fd); /* fd is now a copy of old */
size_t tl_resource_groups(tl_resource_group **groups); /* largest first; malloc'd */
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

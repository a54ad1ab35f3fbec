/* States and verdicts, by the contract's names. A verdict is the report's judgement of a thread:
   until there is proof that nothing will wake it, a waiting thread is only "blocked". */
#include "tl.h"

static const char *const state_names[] = {
    [TL_RUNNING] = "running", [TL_COND_WAIT] = "cond_wait", [TL_MUTEX_LOCK] = "mutex_lock",
    [TL_RWLOCK_READ] = "rwlock_read", [TL_RWLOCK_WRITE] = "rwlock_write", [TL_SEM_WAIT] = "sem_wait",
    [TL_BARRIER_WAIT] = "barrier_wait", [TL_JOIN] = "join", [TL_SLEEP] = "sleep",
    [TL_PIPE_READ] = "pipe_read", [TL_PIPE_WRITE] = "pipe_write", [TL_MQ_RECEIVE] = "mq_receive",
    [TL_MQ_SEND] = "mq_send", [TL_SOCKET_READ] = "socket_read", [TL_SOCKET_WRITE] = "socket_write",
    [TL_ACCEPT] = "accept", [TL_POLL] = "poll", [TL_WAITING] = "waiting",
    [TL_EXITED_UNJOINED] = "exited_unjoined",
};

static const char *const verdict_names[] = {
    [TL_DEADLOCK] = "deadlock", [TL_ORPHANED] = "orphaned", [TL_BLOCKED] = "blocked",
    [TL_UNJOINED] = "unjoined", [TL_VERDICT_RUNNING] = "running",
};

const char *tl_state_name(tl_state s)
{
    return state_names[s];
}

const char *tl_verdict_name(tl_verdict v)
{
    return verdict_names[v];
}

void tl_verdicts_assign(tl_report *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row *row = &r->rows[i];
        if (row->state == TL_EXITED_UNJOINED)
            row->verdict = TL_UNJOINED;
        else if (row->state == TL_RUNNING)
            row->verdict = TL_VERDICT_RUNNING;
        else
            row->verdict = TL_BLOCKED;
    }
}

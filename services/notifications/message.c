/* message.c -- a stored notification as the API's Notification message. */
#include "message.h"

#include <stdlib.h>
#include <string.h>

void nt_message_fill(nt_message *m, const nt_note *n)
{
    memset(m, 0, sizeof *m);
    homeward__notifications__v1__notification__init(&m->msg);
    m->msg.id = n->id;
    m->msg.kind = n->kind;
    m->msg.rule = n->rule;
    m->msg.priority = strcmp(n->priority, "urgent") == 0
                          ? HOMEWARD__NOTIFICATIONS__V1__PRIORITY__PRIORITY_URGENT
                          : HOMEWARD__NOTIFICATIONS__V1__PRIORITY__PRIORITY_ROUTINE;
    m->msg.title = n->title;
    m->msg.body = n->body;
    m->msg.subject = n->subject;
    m->msg.episode_id = n->episode_id;
    m->msg.child_id = n->child_id;
    m->msg.letter_id = n->letter_id;
    m->msg.event_id = n->event_id;
    m->msg.created_at = n->created_at;
    m->msg.acknowledged = n->acknowledged;
    m->msg.acknowledged_at = n->acknowledged_at;
    if (n->n_recipients > 0) {
        m->recipients = calloc((size_t)n->n_recipients, sizeof *m->recipients);
        m->recipient_ptrs = calloc((size_t)n->n_recipients, sizeof *m->recipient_ptrs);
        if (!m->recipients || !m->recipient_ptrs)
            abort();
        for (int i = 0; i < n->n_recipients; i++) {
            homeward__notifications__v1__recipient__init(&m->recipients[i]);
            m->recipients[i].address = n->addresses[i];
            m->recipients[i].reason = n->reasons[i];
            m->recipient_ptrs[i] = &m->recipients[i];
        }
        m->msg.n_recipients = (size_t)n->n_recipients;
        m->msg.recipients = m->recipient_ptrs;
    }
}

void nt_message_clear(nt_message *m)
{
    free(m->recipients);
    free(m->recipient_ptrs);
    memset(m, 0, sizeof *m);
}

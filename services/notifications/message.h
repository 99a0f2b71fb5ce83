/* message.h -- a stored notification as the API's Notification message.
 *
 * nt_message_fill borrows every string from the nt_note (keep it alive while
 * the message is used) and mallocs only the recipient arrays, which
 * nt_message_clear frees. */
#ifndef NT_MESSAGE_H
#define NT_MESSAGE_H

#include "homeward/notifications/v1/notifications.pb-c.h"
#include "store.h"

typedef struct nt_message {
    Homeward__Notifications__V1__Notification msg;
    Homeward__Notifications__V1__Recipient *recipients;
    Homeward__Notifications__V1__Recipient **recipient_ptrs;
} nt_message;

void nt_message_fill(nt_message *m, const nt_note *n);
void nt_message_clear(nt_message *m);

#endif

/* hw_idem.h -- idempotent mutating calls.
 *
 * Phones retry on poor signal: a mutating call carries a request_id and a
 * repeat with the same (caller, method, request_id) returns the first
 * result and changes nothing. Use inside the handler's transaction:
 *
 *   hw_db_begin(db)
 *   if (hw_idem_begin(db, call, req->request_id, resp_desc, &resp, st) == 1)
 *       -> reply with *resp (already decoded in the call arena), done
 *   ... make the change ...
 *   hw_idem_finish(db, call, req->request_id, resp, st)
 *   hw_db_commit(db)
 *
 * hw_idem_begin takes a transaction-scoped advisory lock on the key so two
 * concurrent repeats serialise. A request_id that is empty -> INVALID_ARGUMENT
 * (field "request_id"). The same request_id reused with a different request
 * body is still answered with the first result. */
#ifndef HW_IDEM_H
#define HW_IDEM_H

#include <protobuf-c/protobuf-c.h>

#include "hw_pg.h"
#include "hw_server.h"

/* Returns 1 (replay: *resp set), 0 (first time), -1 (error, st set). */
int hw_idem_begin(hw_db *db, hw_call *call, const char *request_id,
                  const ProtobufCMessageDescriptor *resp_desc,
                  ProtobufCMessage **resp, hw_status *st);
int hw_idem_finish(hw_db *db, hw_call *call, const char *request_id,
                   const ProtobufCMessage *resp, hw_status *st);

#endif

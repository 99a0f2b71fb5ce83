/* hw_log.h -- one JSON line per event on stderr.
 *
 * Every line has ts (RFC 3339 UTC, ms), level, service, msg; call lines add
 * method, request_id, grpc_code, duration_ms. NEVER pass a child's name,
 * date of birth or any other personal detail: log ids only. Thread-safe. */
#ifndef HW_LOG_H
#define HW_LOG_H

enum hw_log_level { HW_LOG_DEBUG, HW_LOG_INFO, HW_LOG_WARN, HW_LOG_ERROR };

void hw_log_init(const char *service);
void hw_log_set_level(enum hw_log_level min);

/* msg is printf-formatted, then JSON-escaped. */
void hw_logf(enum hw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A finished call. request_id may be NULL. */
void hw_log_call(const char *method, const char *request_id, int grpc_code,
                 double duration_ms, const char *msg);

#define hw_info(...) hw_logf(HW_LOG_INFO, __VA_ARGS__)
#define hw_warn(...) hw_logf(HW_LOG_WARN, __VA_ARGS__)
#define hw_error(...) hw_logf(HW_LOG_ERROR, __VA_ARGS__)

#endif

/* hw_config.h -- configuration from environment variables.
 *
 * The hw_config_get_* functions never exit: they return 0, or -1 with a
 * message in err naming the variable and what is wrong ("HOMEWARD_WORKERS:
 * expected an integer in 1..64, got 'abc'"). The hw_config_* wrappers log
 * that message and exit(2), for use at start-up only. */
#ifndef HW_CONFIG_H
#define HW_CONFIG_H

#include <stddef.h>

/* def == NULL means required. *out points into the environment or at def. */
int hw_config_get_str(const char *name, const char *def, const char **out,
                      char *err, size_t errlen);
int hw_config_get_int(const char *name, long def, long min, long max, long *out,
                      char *err, size_t errlen);
/* "host:port"; port 1..65535. out_host must hold 256 bytes. */
int hw_config_get_addr(const char *name, const char *def, char *out_host,
                       int *out_port, char *err, size_t errlen);

const char *hw_config_str(const char *name, const char *def);
long hw_config_int(const char *name, long def, long min, long max);

#endif

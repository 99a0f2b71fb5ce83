/* services.c -- the Homeward services hwctl knows: names, addresses, methods. */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "homeward/interviews/v1/interviews.pb-c.h"
#include "homeward/meetings/v1/meetings.pb-c.h"
#include "homeward/notifications/v1/notifications.pb-c.h"
#include "homeward/risk/v1/risk.pb-c.h"
#include "homeward/testing/v1/probe.pb-c.h"

const hwctl_service hwctl_services[] = {
    {"episodes", "EPISODES_ADDR", "127.0.0.1:50051", &homeward__episodes__v1__episodes__descriptor},
    {"risk", "RISK_ADDR", "127.0.0.1:50052", &homeward__risk__v1__risk__descriptor},
    {"interviews", "INTERVIEWS_ADDR", "127.0.0.1:50053",
     &homeward__interviews__v1__interviews__descriptor},
    {"notifications", "NOTIFICATIONS_ADDR", "127.0.0.1:50054",
     &homeward__notifications__v1__notifications__descriptor},
    {"meetings", "MEETINGS_ADDR", "127.0.0.1:50055", &homeward__meetings__v1__meetings__descriptor},
};
const size_t hwctl_n_services = sizeof hwctl_services / sizeof hwctl_services[0];

/* Searched when calling by address: the five, plus the test probe server
 * used by the transport tests. */
static const ProtobufCServiceDescriptor *const hwctl__all_descs[] = {
    &homeward__episodes__v1__episodes__descriptor,
    &homeward__risk__v1__risk__descriptor,
    &homeward__interviews__v1__interviews__descriptor,
    &homeward__notifications__v1__notifications__descriptor,
    &homeward__meetings__v1__meetings__descriptor,
    &homeward__testing__v1__probe__descriptor,
};

/* Server-streaming methods: keep in step with the `stream` replies in
 * proto/ (protobuf-c records no streaming flag). */
static const struct {
    const char *service, *method;
} hwctl__streaming[] = {
    {"homeward.episodes.v1.Episodes", "WatchEpisodes"},
    {"homeward.testing.v1.Probe", "Ticks"},
};

const hwctl_service *hwctl_service_by_name(const char *name)
{
    for (size_t i = 0; i < hwctl_n_services; i++)
        if (strcmp(hwctl_services[i].name, name) == 0)
            return &hwctl_services[i];
    return NULL;
}

const char *hwctl_service_addr(const hwctl_service *s)
{
    const char *v = getenv(s->addr_env);
    return v && *v ? v : s->default_addr;
}

bool hwctl_method_is_streaming(const ProtobufCServiceDescriptor *svc, const char *method)
{
    for (size_t i = 0; i < sizeof hwctl__streaming / sizeof hwctl__streaming[0]; i++)
        if (strcmp(hwctl__streaming[i].service, svc->name) == 0 &&
            strcmp(hwctl__streaming[i].method, method) == 0)
            return true;
    return false;
}

/* Does "qual" name this service: its full name or its short name? */
static bool hwctl__names_service(const ProtobufCServiceDescriptor *d, const char *qual,
                                 size_t qlen)
{
    return (strlen(d->name) == qlen && strncmp(d->name, qual, qlen) == 0) ||
           (strlen(d->short_name) == qlen && strncmp(d->short_name, qual, qlen) == 0);
}

const ProtobufCMethodDescriptor *hwctl_find_method(const ProtobufCServiceDescriptor *svc,
                                                   const char *spec,
                                                   const ProtobufCServiceDescriptor **owner,
                                                   char *err, size_t errlen)
{
    if (*spec == '/')
        spec++;
    /* Split an optional service qualifier: "Svc/Method" or "Svc.Method"
     * (the last '/' or '.' separates them). */
    const char *qual = NULL;
    size_t qlen = 0;
    const char *sep = strrchr(spec, '/');
    if (!sep)
        sep = strrchr(spec, '.');
    const char *name = spec;
    if (sep) {
        qual = spec;
        qlen = (size_t)(sep - spec);
        name = sep + 1;
    }

    const ProtobufCMethodDescriptor *found = NULL;
    const ProtobufCServiceDescriptor *found_in = NULL;
    size_t n = svc ? 1 : sizeof hwctl__all_descs / sizeof hwctl__all_descs[0];
    for (size_t i = 0; i < n; i++) {
        const ProtobufCServiceDescriptor *d = svc ? svc : hwctl__all_descs[i];
        if (qual && !hwctl__names_service(d, qual, qlen))
            continue;
        const ProtobufCMethodDescriptor *m = protobuf_c_service_descriptor_get_method_by_name(d, name);
        if (!m)
            continue;
        if (found) {
            snprintf(err, errlen, "method %s is in both %s and %s: qualify it, e.g. %s/%s", name,
                     found_in->name, d->name, d->name, name);
            return NULL;
        }
        found = m;
        found_in = d;
    }
    if (!found) {
        if (svc)
            snprintf(err, errlen, "%s has no method %s (try: hwctl list)", svc->name, spec);
        else
            snprintf(err, errlen, "no known service has a method %s", spec);
        return NULL;
    }
    *owner = found_in;
    return found;
}

/* services.h -- the Homeward services hwctl knows: names, addresses, methods. */
#ifndef HWCTL_SERVICES_H
#define HWCTL_SERVICES_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct hwctl_service {
    const char *name;          /* "episodes" */
    const char *addr_env;      /* "EPISODES_ADDR" */
    const char *default_addr;  /* "127.0.0.1:50051" */
    const ProtobufCServiceDescriptor *desc;
} hwctl_service;

/* The five services, in port order. */
extern const hwctl_service hwctl_services[];
extern const size_t hwctl_n_services;

/* By short name ("episodes"), or NULL. */
const hwctl_service *hwctl_service_by_name(const char *name);

/* The address to call: the environment's <NAME>_ADDR, else the default. */
const char *hwctl_service_addr(const hwctl_service *s);

/* Find a method. spec is "GetEpisode", "Episodes.GetEpisode",
 * "homeward.episodes.v1.Episodes/GetEpisode" or "/pkg.Svc/Method". If svc is
 * not NULL only that service is searched; otherwise every service hwctl
 * knows (including the test probe), and a name found in two is ambiguous.
 * Returns the method and sets *owner, or NULL with err set. */
const ProtobufCMethodDescriptor *hwctl_find_method(const ProtobufCServiceDescriptor *svc,
                                                   const char *spec,
                                                   const ProtobufCServiceDescriptor **owner,
                                                   char *err, size_t errlen);

/* Server-streaming? protobuf-c descriptors do not say: a side table does. */
bool hwctl_method_is_streaming(const ProtobufCServiceDescriptor *svc, const char *method);

#endif

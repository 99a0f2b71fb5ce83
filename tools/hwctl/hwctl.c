/* hwctl.c -- command-line client for the Homeward services: call, health, token, list. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/health/v1/health.pb-c.h"
#include "hw_auth.h"
#include "hw_client.h"
#include "hw_client_stream.h"
#include "hw_pbjson.h"
#include "hw_status.h"
#include "services.h"

#define HWCTL_DEFAULT_KEY ".homeward/dev-keys/jwt-private.pem"
#define HWCTL_MAX_LIST 64 /* --role / --home given more often is refused */

static void usage(FILE *f)
{
    fprintf(f,
        "usage:\n"
        "  hwctl call SERVICE METHOD ['<json>' | -  | @FILE] [options]\n"
        "      SERVICE: episodes|risk|interviews|notifications|meetings (address from\n"
        "      <SERVICE>_ADDR, default 127.0.0.1:50051..50055) or host:port.\n"
        "      Prints the reply as JSON; server-streaming methods print one JSON line\n"
        "      per message until the stream ends or Ctrl-C.\n"
        "  hwctl health [SERVICE|host:port]...     (default: all five)\n"
        "  hwctl list [SERVICE [METHOD]]            methods, or a request's fields\n"
        "  hwctl token --role ROLE [--role ROLE]... --org ORG [--home ID]...\n"
        "              [--sub SUB] [--name NAME] [--ttl SECONDS]\n"
        "      Mints a DEVELOPMENT token with the key at $HOMEWARD_DEV_KEY or\n"
        "      " HWCTL_DEFAULT_KEY " (made by ./homeward up).\n"
        "options:\n"
        "  --token T      bearer token (default $HOMEWARD_TOKEN)\n"
        "  --purpose P    x-purpose metadata (default $HOMEWARD_PURPOSE or \"hwctl\")\n"
        "  --timeout MS   deadline (default 10000 for calls, none for streams)\n"
        "  --stream       treat METHOD as server-streaming\n"
        "  --compact      one-line JSON output\n"
        "  --defaults     also print fields that hold default values\n"
        "  --camel        print lowerCamelCase JSON names instead of proto names\n");
}

/* ---- options ---- */

typedef struct hwctl_opts {
    const char *pos[16];
    int n_pos;
    const char *token, *purpose;
    long timeout_ms;
    bool stream, compact, defaults, camel;
    /* token */
    const char *roles[HWCTL_MAX_LIST];
    int n_roles;
    const char *homes[HWCTL_MAX_LIST];
    int n_homes;
    const char *org, *sub, *name;
    long ttl;
} hwctl_opts;

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "--opt value" and "--opt=value". Returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, hwctl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = -1;
    o->ttl = 3600;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "-") == 0) {
            if (o->n_pos >= (int)(sizeof o->pos / sizeof o->pos[0])) {
                fprintf(stderr, "hwctl: too many arguments\n");
                return -1;
            }
            o->pos[o->n_pos++] = a;
            continue;
        }
        const char *key = a + 2, *val = NULL;
        char keybuf[32];
        const char *eq = strchr(key, '=');
        if (eq) {
            snprintf(keybuf, sizeof keybuf, "%.*s", (int)(eq - key), key);
            key = keybuf;
            val = eq + 1;
        }
        /* Flags without a value. */
        bool *flag = strcmp(key, "stream") == 0     ? &o->stream
                     : strcmp(key, "compact") == 0  ? &o->compact
                     : strcmp(key, "defaults") == 0 ? &o->defaults
                     : strcmp(key, "camel") == 0    ? &o->camel
                                                    : NULL;
        if (flag) {
            *flag = true;
            continue;
        }
        if (strcmp(key, "help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hwctl: --%s needs a value\n", key);
                return -1;
            }
            val = argv[++i];
        }
        if (strcmp(key, "token") == 0) {
            o->token = val;
        } else if (strcmp(key, "purpose") == 0) {
            o->purpose = val;
        } else if (strcmp(key, "timeout") == 0) {
            if (parse_long(val, 1, 86400000L, &o->timeout_ms) != 0) {
                fprintf(stderr, "hwctl: --timeout: expected milliseconds in 1..86400000\n");
                return -1;
            }
        } else if (strcmp(key, "role") == 0 || strcmp(key, "home") == 0) {
            bool role = key[0] == 'r';
            int *n = role ? &o->n_roles : &o->n_homes;
            if (*n >= HWCTL_MAX_LIST) {
                fprintf(stderr, "hwctl: too many --%s\n", key);
                return -1;
            }
            (role ? o->roles : o->homes)[(*n)++] = val;
        } else if (strcmp(key, "org") == 0) {
            o->org = val;
        } else if (strcmp(key, "sub") == 0) {
            o->sub = val;
        } else if (strcmp(key, "name") == 0) {
            o->name = val;
        } else if (strcmp(key, "ttl") == 0) {
            if (parse_long(val, 1, 30L * 86400, &o->ttl) != 0) {
                fprintf(stderr, "hwctl: --ttl: expected seconds in 1..2592000\n");
                return -1;
            }
        } else {
            fprintf(stderr, "hwctl: unknown option --%s\n", key);
            return -1;
        }
    }
    return 0;
}

static const char *opt_token(const hwctl_opts *o)
{
    if (o->token)
        return o->token;
    const char *t = getenv("HOMEWARD_TOKEN");
    return t && *t ? t : NULL;
}

static const char *opt_purpose(const hwctl_opts *o)
{
    if (o->purpose)
        return o->purpose;
    const char *p = getenv("HOMEWARD_PURPOSE");
    return p && *p ? p : "hwctl";
}

static int json_flags(const hwctl_opts *o, bool one_line)
{
    int f = 0;
    if (!one_line && !o->compact)
        f |= HW_PBJSON_PRETTY;
    if (!o->camel)
        f |= HW_PBJSON_PROTO_NAMES;
    if (o->defaults)
        f |= HW_PBJSON_EMIT_DEFAULTS;
    return f;
}

static void print_status(const hw_status *st)
{
    fprintf(stderr, "error: %s: %s\n", hw_code_name(st->code), st->message);
    for (int i = 0; i < st->n_violations && i < HW_STATUS_MAX_VIOLATIONS; i++)
        fprintf(stderr, "  %s: %s\n", st->violations[i].field, st->violations[i].description);
}

static void print_message(const ProtobufCMessage *m, int flags)
{
    char *json = hw_message_to_json(m, flags);
    if (!json) {
        fprintf(stderr, "hwctl: could not write the reply as JSON\n");
        return;
    }
    printf("%s\n", json);
    fflush(stdout);
    free(json);
}

/* ---- call ---- */

static volatile sig_atomic_t hwctl_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    hwctl_interrupted = 1;
}

static int print_streamed(const ProtobufCMessage *msg, void *ud)
{
    print_message(msg, *(const int *)ud);
    return 0;
}

/* The request JSON: the argument itself, "-" for stdin, "@file". */
static char *request_text(const char *arg)
{
    if (!arg)
        return strdup("{}");
    if (arg[0] == '@')
        return hw_read_file(arg + 1);
    if (strcmp(arg, "-") == 0)
        return hw_read_file("/dev/stdin");
    return strdup(arg);
}

static int cmd_call(const hwctl_opts *o)
{
    if (o->n_pos < 3 || o->n_pos > 4) {
        usage(stderr);
        return 2;
    }
    const char *svc_arg = o->pos[1], *method_arg = o->pos[2];
    const hwctl_service *svc = hwctl_service_by_name(svc_arg);
    const char *addr = svc ? hwctl_service_addr(svc) : svc_arg;
    if (!svc && !strchr(svc_arg, ':')) {
        fprintf(stderr, "hwctl: unknown service '%s' (episodes, risk, interviews, "
                        "notifications, meetings, or host:port)\n", svc_arg);
        return 2;
    }
    char err[512];
    const ProtobufCServiceDescriptor *owner = NULL;
    const ProtobufCMethodDescriptor *m =
        hwctl_find_method(svc ? svc->desc : NULL, method_arg, &owner, err, sizeof err);
    if (!m) {
        fprintf(stderr, "hwctl: %s\n", err);
        return 2;
    }
    char *text = request_text(o->n_pos == 4 ? o->pos[3] : NULL);
    if (!text) {
        fprintf(stderr, "hwctl: cannot read the request: %s\n", strerror(errno));
        return 2;
    }
    ProtobufCMessage *req = hw_json_to_message(m->input, text, err, sizeof err);
    free(text);
    if (!req) {
        fprintf(stderr, "hwctl: request (%s): %s\n", m->input->name, err);
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "/%s/%s", owner->name, m->name);

    hw_status st = HW_STATUS_INIT;
    int rc;
    if (o->stream || hwctl_method_is_streaming(owner, m->name)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        int flags = json_flags(o, true);
        hw_stream_opts so = {opt_token(o), opt_purpose(o), o->timeout_ms > 0 ? o->timeout_ms : 0,
                             &hwctl_interrupted};
        rc = hw_client_server_stream(addr, path, req, m->output, print_streamed, &flags, &so, &st);
        /* Stopping a stream with Ctrl-C is the normal way to end it. */
        if (rc != 0 && hwctl_interrupted && st.code == HW_CANCELLED)
            rc = 0;
        else if (rc != 0)
            print_status(&st);
    } else {
        hw_channel *ch = hw_channel_create(addr);
        if (!ch) {
            fprintf(stderr, "hwctl: cannot open a channel to %s\n", addr);
            protobuf_c_message_free_unpacked(req, NULL);
            return 1;
        }
        hw_call_opts co = {opt_token(o), opt_purpose(o), o->timeout_ms > 0 ? o->timeout_ms : 10000,
                           false, NULL};
        ProtobufCMessage *resp = NULL;
        rc = hw_client_unary(ch, path, req, m->output, &resp, &co, &st);
        if (rc == 0 && st.code == HW_OK) {
            if (resp)
                print_message(resp, json_flags(o, false));
            else
                printf("{}\n");
        } else {
            rc = -1;
            print_status(&st);
        }
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        hw_channel_destroy(ch);
    }
    protobuf_c_message_free_unpacked(req, NULL);
    return rc == 0 ? 0 : 1;
}

/* ---- health ---- */

static int check_health(const char *label, const char *addr, const char *service_name,
                        long timeout_ms)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service_name;
    hw_channel *ch = hw_channel_create(addr);
    if (!ch) {
        printf("%-14s %-22s UNREACHABLE (cannot create channel)\n", label, addr);
        return 1;
    }
    hw_call_opts co = {NULL, NULL, timeout_ms, false, NULL};
    hw_status st = HW_STATUS_INIT;
    ProtobufCMessage *resp = NULL;
    int rc = hw_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                             &grpc__health__v1__health_check_response__descriptor, &resp, &co,
                             &st);
    int bad = 1;
    if (rc == 0 && st.code == HW_OK) {
        int status = resp ? (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status : 0;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
            &grpc__health__v1__health_check_response__serving_status__descriptor, status);
        printf("%-14s %-22s %s\n", label, addr, ev ? ev->name : "UNKNOWN");
        bad = status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    } else {
        printf("%-14s %-22s NOT_SERVING (%s: %s)\n", label, addr, hw_code_name(st.code),
               st.message);
    }
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    hw_channel_destroy(ch);
    return bad;
}

static int cmd_health(const hwctl_opts *o)
{
    long timeout = o->timeout_ms > 0 ? o->timeout_ms : 3000;
    int bad = 0;
    if (o->n_pos == 1) {
        for (size_t i = 0; i < hwctl_n_services; i++)
            bad |= check_health(hwctl_services[i].name, hwctl_service_addr(&hwctl_services[i]),
                                hwctl_services[i].desc->name, timeout);
        return bad ? 1 : 0;
    }
    for (int i = 1; i < o->n_pos; i++) {
        const hwctl_service *s = hwctl_service_by_name(o->pos[i]);
        if (s) {
            bad |= check_health(s->name, hwctl_service_addr(s), s->desc->name, timeout);
        } else if (strchr(o->pos[i], ':')) {
            /* A bare address: ask about the server as a whole (""). */
            bad |= check_health("-", o->pos[i], "", timeout);
        } else {
            fprintf(stderr, "hwctl: unknown service '%s'\n", o->pos[i]);
            return 2;
        }
    }
    return bad ? 1 : 0;
}

/* ---- list ---- */

static const char *type_name(const ProtobufCFieldDescriptor *f)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",     [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",   [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",   [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",   [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",     [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",       [PROTOBUF_C_TYPE_STRING] = "string",
        [PROTOBUF_C_TYPE_BYTES] = "bytes",
    };
    if (f->type == PROTOBUF_C_TYPE_ENUM)
        return ((const ProtobufCEnumDescriptor *)f->descriptor)->name;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return ((const ProtobufCMessageDescriptor *)f->descriptor)->name;
    if ((size_t)f->type < sizeof names / sizeof names[0] && names[f->type])
        return names[f->type];
    return "?";
}

static void list_fields(const ProtobufCMessageDescriptor *d)
{
    printf("%s\n", d->name);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        printf("  %-32s %s%s%s\n", f->name, f->label == PROTOBUF_C_LABEL_REPEATED ? "repeated " : "",
               type_name(f), (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ? "  (oneof)" : "");
        if (f->type == PROTOBUF_C_TYPE_ENUM) {
            const ProtobufCEnumDescriptor *ed = f->descriptor;
            printf("  %-32s   one of:", "");
            for (unsigned k = 0; k < ed->n_values; k++)
                printf(" %s", ed->values[k].name);
            printf("\n");
        }
    }
}

static int cmd_list(const hwctl_opts *o)
{
    if (o->n_pos == 1) {
        for (size_t i = 0; i < hwctl_n_services; i++)
            printf("%-14s %-22s %s (%u methods)\n", hwctl_services[i].name,
                   hwctl_service_addr(&hwctl_services[i]), hwctl_services[i].desc->name,
                   hwctl_services[i].desc->n_methods);
        return 0;
    }
    const hwctl_service *s = hwctl_service_by_name(o->pos[1]);
    if (!s || o->n_pos > 3) {
        fprintf(stderr, "hwctl: unknown service '%s'\n", o->pos[1]);
        return 2;
    }
    const ProtobufCServiceDescriptor *d = s->desc;
    if (o->n_pos == 3) {
        char err[512];
        const ProtobufCServiceDescriptor *owner;
        const ProtobufCMethodDescriptor *m = hwctl_find_method(d, o->pos[2], &owner, err, sizeof err);
        if (!m) {
            fprintf(stderr, "hwctl: %s\n", err);
            return 2;
        }
        printf("rpc %s(%s) returns (%s%s)\n\n", m->name, m->input->short_name,
               hwctl_method_is_streaming(d, m->name) ? "stream " : "", m->output->short_name);
        list_fields(m->input);
        return 0;
    }
    printf("%s at %s\n", d->name, hwctl_service_addr(s));
    for (unsigned i = 0; i < d->n_methods; i++) {
        const ProtobufCMethodDescriptor *m = &d->methods[i];
        printf("  %-28s %s -> %s%s\n", m->name, m->input->short_name,
               hwctl_method_is_streaming(d, m->name) ? "stream " : "", m->output->short_name);
    }
    return 0;
}

/* ---- token ---- */

static int cmd_token(const hwctl_opts *o)
{
    if (o->n_pos != 1 || o->n_roles == 0 || !o->org) {
        fprintf(stderr, "hwctl token: --role and --org are required\n");
        usage(stderr);
        return 2;
    }
    const char *key_path = getenv("HOMEWARD_DEV_KEY");
    if (!key_path || !*key_path)
        key_path = HWCTL_DEFAULT_KEY;
    char *pem = hw_read_file(key_path);
    if (!pem) {
        fprintf(stderr, "hwctl: no development key at %s (%s): run ./homeward up, which "
                        "creates it, or set HOMEWARD_DEV_KEY\n", key_path, strerror(errno));
        return 1;
    }
    const char *iss = getenv("JWT_ISSUER"), *aud = getenv("JWT_AUDIENCE");
    time_t now = time(NULL);
    json_t *claims = json_object();
    json_t *roles = json_array(), *homes = json_array();
    for (int i = 0; i < o->n_roles; i++)
        json_array_append_new(roles, json_string(o->roles[i]));
    for (int i = 0; i < o->n_homes; i++)
        json_array_append_new(homes, json_string(o->homes[i]));
    json_object_set_new(claims, "iss", json_string(iss && *iss ? iss : "homeward-dev"));
    json_object_set_new(claims, "aud", json_string(aud && *aud ? aud : "homeward"));
    json_object_set_new(claims, "sub", json_string(o->sub ? o->sub : "dev-user"));
    json_object_set_new(claims, "org", json_string(o->org));
    if (o->name)
        json_object_set_new(claims, "name", json_string(o->name));
    json_object_set_new(claims, "roles", roles);
    if (o->n_homes)
        json_object_set_new(claims, "homes", homes);
    else
        json_decref(homes);
    json_object_set_new(claims, "iat", json_integer((json_int_t)now));
    json_object_set_new(claims, "exp", json_integer((json_int_t)now + o->ttl));
    char *claims_text = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    char err[256] = "out of memory";
    char *token = claims_text ? hw_jwt_mint_es256(pem, claims_text, err, sizeof err) : NULL;
    free(claims_text);
    free(pem);
    if (!token) {
        fprintf(stderr, "hwctl: %s\n", err);
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;
}

int main(int argc, char **argv)
{
    hwctl_opts o;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (parse_args(argc - 1, argv + 1, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (o.n_pos == 0) {
        usage(stderr);
        return 2;
    }
    const char *cmd = o.pos[0];
    if (strcmp(cmd, "call") == 0)
        return cmd_call(&o);
    if (strcmp(cmd, "health") == 0)
        return cmd_health(&o);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(&o);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(&o);
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hwctl: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

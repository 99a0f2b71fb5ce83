/* redistest.h -- a Redis server of the test's own, on a free loopback port,
 * to take down and bring back (outage tests of hw_redis and the deadline
 * scheduler). redis-server from PATH, or HW_TEST_REDIS_SERVER. Include after
 * <cmocka.h>. */
#ifndef HW_REDISTEST_H
#define HW_REDISTEST_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

__attribute__((unused)) static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

__attribute__((unused)) static pid_t start_redis(int port) {
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    const char *server = getenv("HW_TEST_REDIS_SERVER");
    if (!server || !*server) server = "redis-server";
    char *argv[] = {(char *)server, "--port", ports, "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, server, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot start %s (set HW_TEST_REDIS_SERVER): %s", server, strerror(rc));
    return pid;
}

__attribute__((unused)) static void stop_redis(pid_t pid) {
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
}

#endif

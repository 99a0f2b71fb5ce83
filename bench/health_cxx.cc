// health_cxx.cc -- the C++ peer for the benchmark: grpc.health.v1.Health/Check
// on gRPC C++ 1.51 with the callback API, answering SERVING, nothing else.
//
// Usage: bench-health-cxx HOST:PORT
// It is the best-case C++ server for the same unary call our C services
// answer, so `./homeward bench` can report the cost of our layer over the
// C core as a ratio rather than a bare number.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"

namespace {

class HealthService final : public grpc::health::v1::Health::CallbackService {
    grpc::ServerUnaryReactor *Check(grpc::CallbackServerContext *ctx,
                                    const grpc::health::v1::HealthCheckRequest *req,
                                    grpc::health::v1::HealthCheckResponse *resp) override {
        auto *reactor = ctx->DefaultReactor();
        if (req->service().empty()) {
            resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
            reactor->Finish(grpc::Status::OK);
        } else {
            reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
        }
        return reactor;
    }
};

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
        return 2;
    }
    // Block the stop signals before gRPC starts its threads, then wait for
    // them here: no gRPC call ever runs in a signal handler.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    HealthService service;
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(argv[1], grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        std::fprintf(stderr, "bench-health-cxx: cannot listen on %s\n", argv[1]);
        return 1;
    }
    std::fprintf(stderr, "bench-health-cxx: serving on %s\n", argv[1]);
    int sig = 0;
    sigwait(&stop, &sig);
    server->Shutdown();
    return 0;
}

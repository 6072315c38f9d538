#include "dashboard/server.h"

#include <httplib.h>
#include <sys/resource.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"
#include "common/stop_signal.h"
#include "dashboard/api.h"
#include "results/queries.h"

namespace fersweep::dashboard {
namespace {

// Requests are small: a GET with a filter. Anything larger is refused before it is read.
constexpr size_t kLargestBody = 16 * 1024;
constexpr int kNiceness = 10;

// Equal-time comparison: the time a wrong token takes says nothing about the right one's bytes.
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < given.size(); ++i) {
    differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return differ == 0;
}

std::string token_of(const httplib::Request& request) {
  const std::string header = request.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.starts_with(kBearer)) return header.substr(kBearer.size());
  return request.get_param_value("token");
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

void serve(const ServeOptions& options, std::FILE* out) {
  if (!is_loopback(options.host) && options.token.empty()) {
    throw InputError(fmt::format(
        "--host {}: a dashboard reachable from other machines needs --token or --token-file",
        options.host));
  }
  { const results::Reader check(options.db); }  // a fersweep database, readable, or InputError
  Api api(options.db);
  httplib::Server server;
  server.set_payload_max_length(kLargestBody);
  // Headers and body go out as two writes: without it Nagle's algorithm holds the second until
  // the client's delayed ACK, 40 ms on every answer.
  server.set_tcp_nodelay(true);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_pre_routing_handler([&](const httplib::Request& request, httplib::Response& reply) {
    if (options.token.empty() || same_secret(token_of(request), options.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    reply.status = 401;
    reply.set_header("WWW-Authenticate", "Bearer");
    reply.set_content(
        R"({"error": "a token is required: Authorization: Bearer TOKEN or ?token=TOKEN"})",
        "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get(".*", [&](const httplib::Request& request, httplib::Response& reply) {
    Request asked{request.path, {}};
    for (const auto& [key, value] : request.params) {
      if (key != "token") asked.query[key] = value;
    }
    Reply answer;
    try {
      answer = api.answer(asked);
    } catch (const std::exception& e) {
      answer = {500, "application/json", json_text(nlohmann::json{{"error", e.what()}})};
    }
    reply.status = answer.status;
    reply.set_header("Cache-Control", "no-store");
    reply.set_header("X-Content-Type-Options", "nosniff");
    reply.set_content(answer.body, answer.content_type.c_str());
  });
  // Everything but GET: the dashboard changes nothing.
  const auto refuse = [](const httplib::Request&, httplib::Response& reply) {
    reply.status = 405;
    reply.set_content(R"({"error": "the dashboard is read-only: GET only"})", "application/json");
  };
  server.Post(".*", refuse);
  server.Put(".*", refuse);
  server.Delete(".*", refuse);
  server.Patch(".*", refuse);

  const int port = options.port == 0
                       ? server.bind_to_any_port(options.host)
                       : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) {
    throw InputError(
        fmt::format("--host {} --port {}: cannot listen there (in use, or not an "
                    "address of this machine)",
                    options.host, options.port));
  }
  // Below the sweep it watches: on a node shared with training ranks, the dashboard takes the
  // CPU they leave (docs/BENCHMARKS.md, "The dashboard under load").
  if (setpriority(PRIO_PROCESS, 0, kNiceness) != 0) {
    fmt::print(stderr, "fersweep serve: could not lower its priority; serving anyway\n");
  }
  install_stop_handlers();
  std::atomic<bool> done = false;
  std::thread watcher([&] {
    while (!done && stop_signal() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
  const std::string shown =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  fmt::print(out, "serving http://{}:{}/ from {} (read-only; Ctrl-C stops)\n", shown, port,
             options.db);
  std::fflush(out);
  server.listen_after_bind();
  done = true;
  watcher.join();
}

}  // namespace fersweep::dashboard

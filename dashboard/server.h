#pragma once
// `fersweep serve`: the dashboard over HTTP (cpp-httplib, Debian's libcpp-httplib-dev: a small,
// widely used header-and-library server; writing HTTP parsing ourselves would be the riskiest
// code in the project). Read-only on the database; loopback by default; any other address needs
// a token, which every request must carry (`Authorization: Bearer T` or `?token=T`).
#include <cstdio>
#include <string>

namespace fersweep::dashboard {

struct ServeOptions {
  std::string db;
  std::string host = "127.0.0.1";
  int port = 8080;    // 0: any free port (printed)
  std::string token;  // empty: none (loopback only)
};

// Serves until SIGINT or SIGTERM. Prints "serving http://HOST:PORT/" on `out` once listening.
// InputError for a database that is not a fersweep one, a non-loopback host without a token, or
// an address it cannot bind.
void serve(const ServeOptions& options, std::FILE* out);

bool is_loopback(const std::string& host);

}  // namespace fersweep::dashboard

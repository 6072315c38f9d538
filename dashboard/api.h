#pragma once
// The dashboard's routes as a function of the request: JSON over the results queries, SVG
// figures drawn by results/svg, and the page. No sockets here (dashboard/server.h serves it), so
// every route is tested directly. Read-only: each request reads through its own WAL reader and
// never takes a write lock, so the sweep writing the database never waits on the dashboard.
//
//   GET /                                 the page (dashboard/page.h)
//   GET /api/sweeps                       every sweep with its trials counted by status
//   GET /api/sweeps/ID                    one sweep: counts, best trial, parameter and metric names
//   GET /api/sweeps/ID/trials?where=&sort=&order=&limit=&offset=
//                                         a page of its trials (docs/RESULTS.md)
//   GET /api/trials/ID                    a trial as `results show --json` gives it
//   GET /svg/trials/ID/curves.svg?metric= its metric per epoch
//   GET /svg/trials/ID/confusion.svg      its validation confusion matrix
//   GET /svg/sweeps/ID/parallel.svg       parameters against the objective, best 500 trials
//   GET /svg/sweeps/ID/importance.svg     parameter importance over up to 1,000 finished trials
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fersweep::dashboard {

struct Request {
  std::string path;
  std::map<std::string, std::string> query;  // decoded
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class Api {
 public:
  explicit Api(std::string db_path);
  // Thread-safe. Bad input (an unknown sweep, a bad filter) is a 4xx reply naming the problem;
  // only a broken database throws.
  Reply answer(const Request& request);

 private:
  struct Names {
    std::vector<std::string> parameters, metrics;
    std::chrono::steady_clock::time_point read_at;
  };
  // A sweep's parameter and metric names, read again after a while (api.cc): each read scans the
  // sweep, and a dashboard asks for a page every two seconds.
  Names names_of(int64_t sweep_id);

  // A leaderboard's order (the ids of the trials matching a filter, sorted), computed by the
  // database at most once a second per sweep, filter and sort, however many clients page
  // through it: a page of a 100,000-trial sweep then reads its 50 rows, and no request sorts
  // the sweep while another has just done so. Leaderboards lag the database by up to a second.
  std::shared_ptr<const std::vector<int64_t>> ordered_ids(int64_t sweep_id,
                                                          const std::string& where,
                                                          const std::string& sort, bool descending);

  // A sweep-wide figure, drawn again once `lifetime` has passed: pages ask for them every 10 s
  // each, and the importance fits a forest.
  std::string figure(const std::string& key, std::chrono::steady_clock::duration lifetime,
                     const std::function<std::string()>& draw);

  std::string db_path_;
  std::mutex names_mutex_;
  std::map<int64_t, Names> names_;
  struct Order {
    std::shared_ptr<const std::vector<int64_t>> ids;
    std::chrono::steady_clock::time_point computed_at;
  };
  std::mutex orders_mutex_, computing_mutex_;
  std::map<std::string, Order> orders_;
  std::mutex figures_mutex_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::string>> figures_;
};

}  // namespace fersweep::dashboard

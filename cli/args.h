#pragma once
// Command-line parsing for fersweep's subcommands: positionals, --flags and --key VALUE options
// (also --key=VALUE). Anything unknown or malformed throws InputError naming the argument.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fersweep::cli {

class Args {
 public:
  // `flags` take no value; `options` take one.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
       const std::set<std::string>& options, const std::string& command);

  bool flag(const std::string& name) const { return flags_.contains(name); }
  std::optional<std::string> option(const std::string& name) const;
  std::string required_option(const std::string& name) const;
  // An integer option within [lo, hi]; nothing when absent.
  std::optional<int64_t> int_option(const std::string& name, int64_t lo, int64_t hi) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  // Throws unless the positional count is within [lo, hi]; `names` is the usage fragment.
  void expect_positionals(size_t lo, size_t hi, const std::string& names) const;

 private:
  std::string command_;
  std::set<std::string> flags_;
  std::map<std::string, std::string> options_;
  std::vector<std::string> positionals_;
};

}  // namespace fersweep::cli

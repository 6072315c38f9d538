#include "cli/args.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
           const std::set<std::string>& options, const std::string& command)
    : command_(command) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      positionals_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg.starts_with("--") ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.contains(name)) {
      if (inline_value) throw InputError(fmt::format("{}: --{} takes no value", command_, name));
      flags_.insert(name);
    } else if (options.contains(name)) {
      if (!inline_value && i + 1 >= argv.size()) {
        throw InputError(fmt::format("{}: --{} needs a value", command_, name));
      }
      options_[name] = inline_value ? *inline_value : argv[++i];
    } else {
      throw InputError(
          fmt::format("{}: unknown option {} (see {} --help)", command_, arg, command_));
    }
  }
}

std::optional<std::string> Args::option(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string Args::required_option(const std::string& name) const {
  auto value = option(name);
  if (!value) throw InputError(fmt::format("{}: --{} is required", command_, name));
  return *value;
}

std::optional<int64_t> Args::int_option(const std::string& name, int64_t lo, int64_t hi) const {
  auto text = option(name);
  if (!text) return std::nullopt;
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value < lo || value > hi) {
    throw InputError(fmt::format("{}: --{} expects an integer in [{}, {}], got \"{}\"", command_,
                                 name, lo, hi, *text));
  }
  return value;
}

void Args::expect_positionals(size_t lo, size_t hi, const std::string& names) const {
  if (positionals_.size() < lo) {
    throw InputError(fmt::format("{}: missing {} (see {} --help)", command_, names, command_));
  }
  if (positionals_.size() > hi) {
    throw InputError(fmt::format("{}: unexpected argument \"{}\" (see {} --help)", command_,
                                 positionals_[hi], command_));
  }
}

}  // namespace fersweep::cli

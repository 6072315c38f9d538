#pragma once
// Error vocabulary. InputError means "the user gave us something wrong" (spec, data file, CLI
// argument, database): process boundaries report it on one line and exit with code 2. Anything
// else that escapes is a bug or an environment failure and exits with code 1.
#include <stdexcept>
#include <string>

namespace fersweep {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kExitInputError = 2;
inline constexpr int kExitFailure = 1;

}  // namespace fersweep

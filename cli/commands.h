#pragma once
#include <string>
#include <vector>

namespace fersweep::cli {

extern const char* const kMainHelp;
extern const char* const kRunHelp;
extern const char* const kResultsHelp;
extern const char* const kModelsHelp;
extern const char* const kDataHelp;
extern const char* const kExportModelHelp;
extern const char* const kPredictHelp;
extern const char* const kServeHelp;

// Each returns the process exit code; InputError escapes to main() unless stated otherwise.
// `run` owns its MPI session and so reports its own errors (only rank 0 prints).
int run_command(int& argc, char**& argv, const std::vector<std::string>& args);
int results_command(const std::vector<std::string>& args);
int models_command(const std::vector<std::string>& args);
int data_command(const std::vector<std::string>& args);
int export_model_command(const std::vector<std::string>& args);
int predict_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);

bool wants_help(const std::vector<std::string>& args);

}  // namespace fersweep::cli

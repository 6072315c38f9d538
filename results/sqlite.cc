#include "results/sqlite.h"

#include <cstdint>

#include <sqlite3.h>

#include <fmt/format.h>

namespace fersweep::sql {

bool SqliteError::not_a_database() const {
  return (code_ & 0xff) == SQLITE_NOTADB || (code_ & 0xff) == SQLITE_CORRUPT;
}
bool SqliteError::cannot_open() const {
  return (code_ & 0xff) == SQLITE_CANTOPEN;
}

Database::Database(const std::string& path, bool read_only) : path_(path) {
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(fmt::format("sqlite3_open_v2({}): {}", path, message), rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Readers and the writer may meet on the WAL checkpoint; wait instead of failing at once.
  sqlite3_busy_timeout(db_, 10000);
}

Database::Database(Database&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) {
  other.db_ = nullptr;
}

Database::~Database() {
  sqlite3_close_v2(db_);
}

void Database::execute(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqliteError(fmt::format("{}: {} (in: {})", path_, message, sql.substr(0, 120)),
                      sqlite3_extended_errcode(db_));
  }
}

int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

Statement::Statement(const Database& db, const std::string& sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(rc, "prepare");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::fail(int rc, const char* what) const {
  throw SqliteError(fmt::format("{}: {} failed: {} (in: {})", db_.path(), what,
                                sqlite3_errmsg(db_.handle()), sql_.substr(0, 120)),
                    sqlite3_extended_errcode(db_.handle()));
}

Statement& Statement::bind(int index, int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (int rc = sqlite3_bind_double(stmt_, index, value); rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::string& value) {
  const int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                   SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc, "step");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Statement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data ? std::string(data, sqlite3_column_bytes(stmt_, column)) : std::string();
}

std::optional<double> Statement::optional_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}

Transaction::Transaction(Database& db) : db_(db) {
  db_.execute("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.execute("ROLLBACK");
    } catch (...) {  // nothing more to do: the connection reports it on its next use
    }
  }
}

void Transaction::commit() {
  db_.execute("COMMIT");
  done_ = true;
}

void backup(const Database& from, const std::string& to_path) {
  Database to(to_path, false);
  sqlite3_backup* copy = sqlite3_backup_init(to.handle(), "main", from.handle(), "main");
  if (!copy) {
    throw SqliteError(fmt::format("{}: sqlite3_backup_init from {} failed: {}", to_path,
                                  from.path(), sqlite3_errmsg(to.handle())),
                      sqlite3_extended_errcode(to.handle()));
  }
  const int stepped = sqlite3_backup_step(copy, -1);
  const int finished = sqlite3_backup_finish(copy);
  const int rc = stepped != SQLITE_DONE ? stepped : finished;
  if (rc != SQLITE_DONE && rc != SQLITE_OK) {
    throw SqliteError(
        fmt::format("{}: copying {} failed: {}", to_path, from.path(), sqlite3_errstr(rc)), rc);
  }
}

}  // namespace fersweep::sql

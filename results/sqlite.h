#pragma once
// A thin RAII layer over the SQLite C API. Every failure throws SqliteError with SQLite's message,
// its result code and the statement text. The header keeps sqlite3.h out of its users.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace fersweep::sql {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // extended result code
  bool not_a_database() const;        // SQLITE_NOTADB or SQLITE_CORRUPT
  bool cannot_open() const;           // SQLITE_CANTOPEN

 private:
  int code_;
};

class Database {
 public:
  Database(const std::string& path, bool read_only);
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&&) = delete;
  Database(const Database&) = delete;

  void execute(const std::string& sql);  // one or more statements, no results
  int64_t last_insert_id() const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(const Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;

  // Binding is 1-based, like SQLite's. Returns *this to chain.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, std::nullopt_t);
  Statement& bind(int index, const std::optional<double>& value);
  Statement& bind(int index, const std::optional<int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);

  bool step();   // true while a row is available
  void run();    // step to completion, for statements without results
  void reset();  // ready to run again, bindings cleared

  bool is_null(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<double> optional_real(int column) const;

 private:
  [[noreturn]] void fail(int rc, const char* what) const;
  sqlite3_stmt* stmt_ = nullptr;
  const Database& db_;
  std::string sql_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called, so an
// exception never leaves half of a message's effects in the database.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

// Copies `from` into a new database file at `to_path` with SQLite's online backup: a consistent
// snapshot, including what `from`'s WAL holds. `to_path` must not exist.
void backup(const Database& from, const std::string& to_path);

}  // namespace fersweep::sql

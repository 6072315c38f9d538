#pragma once
// Text that came from users, files or a database (class and source names, parameter values,
// error messages quoting file names), made safe for where it is shown. Any byte string is
// accepted: invalid UTF-8 is replaced, never passed on.
#include <string>
#include <string_view>
#include <vector>

namespace fersweep {

// For a terminal: control characters other than newline and tab, DEL, C1 controls and bytes that
// are not UTF-8 are written as \xNN (C1 as \u0080..\u009f), so a name cannot move the cursor,
// clear the screen or retitle the terminal.
std::string terminal_text(std::string_view text);

// For XML and HTML text and attributes: &, <, >, " and ' escaped, and every character XML 1.0
// does not allow (controls other than tab, newline and carriage return; U+FFFE, U+FFFF) or an
// invalid UTF-8 sequence replaced by U+FFFD, so that the document stays well-formed.
std::string markup_text(std::string_view text);

// Valid UTF-8: each invalid sequence replaced by U+FFFD; everything else kept.
std::string valid_utf8(std::string_view text);

// The pieces of `text` between `separator`s: "a,,b" gives a, "", b; "" gives nothing.
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace fersweep

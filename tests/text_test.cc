// Names and messages from users, files and databases, made safe for a terminal, for XML and for
// JSON, whatever bytes they hold.
#include "common/text.h"

#include <gtest/gtest.h>

namespace fersweep {
namespace {

TEST(TerminalText, ControlCharactersAndBrokenUtf8AreShownNotSent) {
  EXPECT_EQ(terminal_text("Angry\x1b[2J\x07"), "Angry\\x1b[2J\\x07");
  EXPECT_EQ(terminal_text("line\nnext\ttab"), "line\nnext\ttab");
  EXPECT_EQ(terminal_text("del\x7f"), "del\\x7f");
  EXPECT_EQ(terminal_text("c1 \xc2\x9b"
                          "31m"),
            "c1 \\u009b31m")
      << "CSI in its one-code-point form";
  EXPECT_EQ(terminal_text("latin-1 caf\xe9"), "latin-1 caf\\xe9");
  EXPECT_EQ(terminal_text("\xe6\x80\x92\xe3\x82\x8a"), "\xe6\x80\x92\xe3\x82\x8a") << "怒り stays";
  EXPECT_EQ(terminal_text(std::string("nul\0end", 7)), "nul\\x00end");
}

TEST(MarkupText, EscapesMarkupAndReplacesWhatXmlForbids) {
  EXPECT_EQ(markup_text("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(markup_text("bell\x07"), "bell" + replacement);
  EXPECT_EQ(markup_text("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(markup_text("overlong \xc0\xaf"), "overlong " + replacement + replacement);
  EXPECT_EQ(markup_text("surrogate \xed\xa0\x80"),
            "surrogate " + replacement + replacement + replacement);
  EXPECT_EQ(markup_text("nonchar \xef\xbf\xbe"), "nonchar " + replacement);
  EXPECT_EQ(markup_text("cut \xe6\x80"), "cut " + replacement + replacement);
  EXPECT_EQ(markup_text("ok \xf0\x9f\x98\x80"), "ok \xf0\x9f\x98\x80");
}

TEST(ValidUtf8, KeepsValidTextAndReplacesEachBadByte) {
  EXPECT_EQ(valid_utf8("plain \x01 text"), "plain \x01 text");
  EXPECT_EQ(valid_utf8("bad \xff\xfe"), "bad \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(
      valid_utf8("\xf4\x90\x80\x80"),
      std::string(4 * 3, ' ').replace(0, 12, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"))
      << "beyond U+10FFFF";
}

}  // namespace
}  // namespace fersweep

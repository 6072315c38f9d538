#pragma once
// The dashboard's one page: HTML, CSS and script in one document, served by the binary, no
// external resource. The script polls the JSON API and puts every string it shows in through
// textContent, never as markup; figures come as SVG images drawn on the server.
#include <string>

namespace fersweep::dashboard {

const std::string& page_html();

}  // namespace fersweep::dashboard

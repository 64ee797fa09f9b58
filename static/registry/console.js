// Accessibility fixes to markup that Django's admin scripts build
// (checked by tests/e2e/test_accessibility.py with axe-core).
//
// The filter_horizontal widget (SelectFilter2.js) names its search icons with
// aria-label on a span without a role, where ARIA prohibits it (axe:
// aria-prohibited-attr); as images they may carry it, and the search inputs'
// labels get their names. Loaded with `defer`, so this listener runs after the
// widget's own "load" listener has built them.
"use strict";
window.addEventListener("load", function () {
    document.querySelectorAll(".selector .search-label-icon[aria-label]:not([role])").forEach(function (icon) {
        icon.setAttribute("role", "img");
    });
});

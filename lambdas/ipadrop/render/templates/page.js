(function () {
  "use strict";

  // Apps whose built-in browsers ignore itms-services links (UA token -> name shown).
  var IN_APP_TOKENS = [
    ["GSA/", "The Google app"],
    ["FBAN", "Facebook"],
    ["FBAV", "Facebook"],
    ["FBIOS", "Facebook"],
    ["Instagram", "Instagram"],
    ["LinkedInApp", "LinkedIn"],
    [" Line/", "LINE"],
    ["MicroMessenger", "WeChat"],
    ["Twitter", "X"],
    ["Slack", "Slack"],
    ["Teams", "Microsoft Teams"],
    ["Outlook", "Outlook"],
    ["GmailApp", "Gmail"],
    ["Gmail", "Gmail"],
    ["Snapchat", "Snapchat"],
    ["Pinterest", "Pinterest"],
    ["WhatsApp", "WhatsApp"],
    ["Discord", "Discord"]
  ];
  // Real browsers on iOS (they are not another app's web view, but iOS lets only
  // Safari install apps from a page): UA token -> name shown.
  var BROWSER_TOKENS = [
    ["CriOS", "Chrome"],
    ["FxiOS", "Firefox"],
    ["EdgiOS", "Edge"],
    ["OPiOS", "Opera"],
    ["DuckDuckGo", "DuckDuckGo"],
    ["Brave", "Brave"]
  ];

  function iosVersion(ua) {
    var match = /OS (\d+)[_.](\d+)(?:[_.](\d+))?/.exec(ua);
    return match ? [Number(match[1]), Number(match[2]), Number(match[3] || 0)] : null;
  }

  // -> {device: "ios" | "inapp" | "other", family: "iphone" | "ipad" | "", app: name,
  //     browser: true when "app" is a browser rather than an in-app view, os: [maj, min, patch] | null}
  function classify(ua, maxTouchPoints) {
    var iosUa = /iPhone|iPad|iPod/.test(ua);
    // iPadOS Safari asks for desktop sites and says "Macintosh"; only touch gives it away.
    var ipadAsMac = /Macintosh/.test(ua) && maxTouchPoints > 1;
    if (!iosUa && !ipadAsMac) {
      return { device: "other", family: "", app: "", browser: false, os: null };
    }
    var family = /iPhone|iPod/.test(ua) ? "iphone" : "ipad";
    // iPadOS as a Mac names macOS 10.15.7 whatever it runs: no version to compare.
    var os = iosUa ? iosVersion(ua) : null;
    for (var i = 0; i < IN_APP_TOKENS.length; i++) {
      if (ua.indexOf(IN_APP_TOKENS[i][0]) !== -1) {
        return { device: "inapp", family: family, app: IN_APP_TOKENS[i][1], browser: false, os: os };
      }
    }
    for (var j = 0; j < BROWSER_TOKENS.length; j++) {
      if (ua.indexOf(BROWSER_TOKENS[j][0]) !== -1) {
        return { device: "inapp", family: family, app: BROWSER_TOKENS[j][1], browser: true, os: os };
      }
    }
    // A bare WKWebView (most in-app browsers) leaves out Safari's "Safari/" token.
    if (ua.indexOf("Safari/") === -1) {
      return { device: "inapp", family: family, app: "", browser: false, os: os };
    }
    return { device: "ios", family: family, app: "", browser: false, os: os };
  }

  function compareVersions(a, b) {
    for (var i = 0; i < Math.max(a.length, b.length); i++) {
      var diff = (a[i] || 0) - (b[i] || 0);
      if (diff !== 0) {
        return diff < 0 ? -1 : 1;
      }
    }
    return 0;
  }

  function readData() {
    var block = document.getElementById("ipadrop-data");
    if (!block) {
      return {};
    }
    try {
      return JSON.parse(block.textContent || "{}") || {};
    } catch (err) {
      return {};
    }
  }

  function localTimes() {
    var now = Date.now();
    var relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
    var nodes = document.querySelectorAll("time[data-local]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var when = new Date(node.getAttribute("datetime") || "");
      if (isNaN(when.getTime())) {
        continue;
      }
      var text;
      try {
        text = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      } catch (err) {
        text = when.toLocaleString();
      }
      var minutes = Math.round((when.getTime() - now) / 60000);
      // A relative phrase helps for hours and days, not for years.
      if (relative && node.hasAttribute("data-relative") && Math.abs(minutes) <= 60 * 1440) {
        var phrase = Math.abs(minutes) < 90 ? relative.format(minutes, "minute")
          : Math.abs(minutes) < 48 * 60 ? relative.format(Math.round(minutes / 60), "hour")
          : relative.format(Math.round(minutes / 1440), "day");
        text += " (" + phrase + ")";
      }
      node.textContent = text;
      node.title = when.toISOString();
    }
  }

  function copyText(input, button, status) {
    var text = input.value;
    function report(ok) {
      status.textContent = ok
        ? "Link copied. Open Safari and paste it into the address bar."
        : "Couldn’t copy. Touch and hold the link above, then choose Copy.";
      button.textContent = ok ? "Copied" : "Copy link";
      if (ok) {
        document.documentElement.setAttribute("data-copied", "");
      }
    }
    function fallback() {
      var ok = false;
      input.focus();
      input.select();
      input.setSelectionRange(0, text.length);
      try {
        ok = document.execCommand("copy");
      } catch (err) {
        ok = false;
      }
      report(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { report(true); }, fallback);
    } else {
      fallback();
    }
  }

  // A reason found here replaces the Install button (the server found none).
  function block(code) {
    var root = document.documentElement;
    if (root.hasAttribute("data-blocked")) {
      return;
    }
    root.setAttribute("data-blocked", code);
    var section = document.getElementById("device-blocked");
    var reason = section ? section.querySelector('[data-blocker="' + code + '"]') : null;
    if (section && reason) {
      section.hidden = false;
      reason.hidden = false;
    }
    disarm();
  }

  // The itms-services links go dead, not just hidden.
  function disarm() {
    var links = document.querySelectorAll("#install-button, #install-anyway");
    for (var i = 0; i < links.length; i++) {
      links[i].removeAttribute("href");
      links[i].setAttribute("aria-disabled", "true");
    }
  }

  function expire() {
    var root = document.documentElement;
    if (root.getAttribute("data-link") === "expired") {
      return;
    }
    root.setAttribute("data-link", "expired");
    root.setAttribute("data-blocked", "link_expired");
    var section = document.getElementById("device-blocked");
    if (section) {
      section.hidden = true;
    }
    var note = document.getElementById("link-expired-note");
    if (note) {
      note.hidden = false;
    }
    disarm();
  }

  function setUp() {
    var root = document.documentElement;
    var data = readData();
    var kind = classify(navigator.userAgent || "", navigator.maxTouchPoints || 0);
    root.setAttribute("data-device", kind.device);
    root.setAttribute("data-family", kind.family);
    localTimes();

    var families = data.deviceFamily || [];
    if (kind.family === "iphone" && families.length && families.indexOf("iphone") === -1) {
      block("ipad_only");
    } else if (kind.os && data.minimumOsVersion) {
      var needed = String(data.minimumOsVersion).split(".").map(Number);
      if (compareVersions(kind.os, needed) < 0) {
        var shown = document.getElementById("device-os");
        if (shown) {
          shown.textContent = kind.os[2] ? kind.os.join(".") : kind.os.slice(0, 2).join(".");
        }
        block("ios_too_old");
      }
    }

    var appName = document.getElementById(kind.browser ? "browser-name" : "inapp-name");
    if (appName && kind.app) {
      appName.textContent = kind.app;
    }
    var inappText = document.getElementById("inapp-text");
    var browserText = document.getElementById("browser-text");
    if (kind.browser && inappText && browserText) {
      inappText.hidden = true;
      browserText.hidden = false;
    }

    // A page left open past its link's expiry must not keep a live Install
    // button: check now, when it comes back (bfcache, tab switch), and on a timer.
    if (data.linkExpiresAt) {
      var expiresAt = Date.parse(data.linkExpiresAt);
      var checkExpiry = function () {
        if (!isNaN(expiresAt) && Date.now() >= expiresAt) {
          expire();
        }
      };
      checkExpiry();
      window.addEventListener("pageshow", checkExpiry);
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "visible") {
          checkExpiry();
        }
      });
      window.setInterval(checkExpiry, 15000);
      var untilExpiry = expiresAt - Date.now();
      if (untilExpiry > 0 && untilExpiry < 2147483647) {
        window.setTimeout(checkExpiry, untilExpiry + 250);
      }
    }

    var install = document.getElementById("install-button");
    if (install) {
      install.addEventListener("click", function () {
        root.setAttribute("data-tapped", "");
        document.getElementById("install-label").textContent = "Installing… check your Home Screen";
        var steps = document.getElementById("next-steps");
        if (steps && steps.scrollIntoView) {
          steps.scrollIntoView({ behavior: "smooth", block: "start" });
        }
      });
    }

    var copyButton = document.getElementById("copy-button");
    var link = document.getElementById("page-link");
    var status = document.getElementById("copy-status");
    if (copyButton && link && status) {
      copyButton.addEventListener("click", function () { copyText(link, copyButton, status); });
      link.addEventListener("focus", function () { link.select(); });
    }
  }

  window.ipadrop = { classify: classify };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();

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
    ["Discord", "Discord"],
    ["CriOS", "Chrome"],
    ["FxiOS", "Firefox"],
    ["EdgiOS", "Edge"],
    ["OPiOS", "Opera"]
  ];

  function iosVersion(ua) {
    var match = /OS (\d+)[_.](\d+)(?:[_.](\d+))?/.exec(ua);
    return match ? [Number(match[1]), Number(match[2]), Number(match[3] || 0)] : null;
  }

  // -> {device: "ios" | "inapp" | "other", family: "iphone" | "ipad" | "", app: name, os: [maj, min, patch] | null}
  function classify(ua, maxTouchPoints) {
    var iosUa = /iPhone|iPad|iPod/.test(ua);
    // iPadOS Safari asks for desktop sites and says "Macintosh"; only touch gives it away.
    var ipadAsMac = /Macintosh/.test(ua) && maxTouchPoints > 1;
    if (!iosUa && !ipadAsMac) {
      return { device: "other", family: "", app: "", os: null };
    }
    var family = /iPhone|iPod/.test(ua) ? "iphone" : "ipad";
    var os = iosUa ? iosVersion(ua) : null;
    for (var i = 0; i < IN_APP_TOKENS.length; i++) {
      if (ua.indexOf(IN_APP_TOKENS[i][0]) !== -1) {
        return { device: "inapp", family: family, app: IN_APP_TOKENS[i][1], os: os };
      }
    }
    // A bare WKWebView (most in-app browsers) leaves out Safari's "Safari/" token.
    if (ua.indexOf("Safari/") === -1) {
      return { device: "inapp", family: family, app: "", os: os };
    }
    return { device: "ios", family: family, app: "", os: os };
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

  function setUp() {
    var root = document.documentElement;
    var data = readData();
    var kind = classify(navigator.userAgent || "", navigator.maxTouchPoints || 0);
    root.setAttribute("data-device", kind.device);
    root.setAttribute("data-family", kind.family);
    localTimes();

    if (data.linkExpiresAt && Date.parse(data.linkExpiresAt) <= Date.now()) {
      root.setAttribute("data-link", "expired");
      var expiredNote = document.getElementById("link-expired-note");
      if (expiredNote) {
        expiredNote.hidden = false;
      }
    }

    var families = data.deviceFamily || [];
    var familyNote = document.getElementById("family-note");
    if (familyNote && kind.family === "iphone" && families.length && families.indexOf("iphone") === -1) {
      familyNote.hidden = false;
    }
    var osNote = document.getElementById("os-note");
    if (osNote && kind.os && data.minimumOsVersion) {
      var needed = String(data.minimumOsVersion).split(".").map(Number);
      if (compareVersions(kind.os, needed) < 0) {
        document.getElementById("device-os").textContent = kind.os.join(".");
        osNote.hidden = false;
      }
    }

    var appName = document.getElementById("inapp-name");
    if (appName && kind.app) {
      appName.textContent = kind.app;
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

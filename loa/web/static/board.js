/* The kiosk board page: cycles through every slide, follows /boards/<code>.json, survives loa being away.
 *
 * Plain ES5 with XMLHttpRequest and no framework: board screens are old Android TV boxes and mini PCs.
 * No inline script or handler anywhere, so the page works under a strict Content-Security-Policy.
 *
 * - A cycle shows every slide of the rotation once, in order, each for its own `seconds`.
 * - Every `data-poll-seconds` the page asks for the JSON with If-None-Match: the version it shows. A 304
 *   costs nothing; a 200 with another version is built into hidden slides (their images start loading).
 * - The new slides take over at the next slide boundary, and the cycle goes on rather than starting
 *   again: next comes the first slide of the new rotation, in its order, that this cycle has not shown yet
 *   (a slide counts as shown when its ref, title, text and image are unchanged). So nothing is skipped,
 *   nothing already seen is repeated before its turn, a corrected slide comes up at once, and a
 *   withdrawn one is gone at once. The cycle ends when every slide of the rotation has been shown.
 * - When loa cannot be reached (network error, timeout, 5xx, anything but 200/304) the page keeps
 *   cycling through the slides it has, shows a small notice, and keeps asking; it recovers by itself.
 * - When loa answers with another `page` version (loa was upgraded), the page reloads at the end of
 *   a cycle, and only right after loa answered, so it never trades its slides for a browser error page.
 * - An emergency covers the whole screen in red (#board-alert) while it is in force: the page asks the
 *   tiny `data-alert-src` every `data-alert-poll-seconds` (2 s), and also follows the `alert` of every JSON
 *   answer, so a page whose alert requests fail still shows and clears it at the slower poll. The slides
 *   go on cycling underneath; the banner leaves at the all-clear or at the alert's `until`, as loa's clock
 *   says (a board box's own clock is often wrong, so the page never decides the end by itself).
 */
(function () {
  "use strict";

  var root = document.getElementById("board");
  var box = document.getElementById("slides");
  if (!root || !box) { return; }
  var notice = document.getElementById("board-offline");
  var src = root.getAttribute("data-src");
  var version = root.getAttribute("data-version");
  var pageVersion = root.getAttribute("data-page");
  var pollMs = Math.max(1, parseInt(root.getAttribute("data-poll-seconds"), 10) || 10) * 1000;
  var emptyText = root.getAttribute("data-empty") || "";
  var stationName = root.querySelector(".board-head .station").textContent;
  var banner = document.getElementById("board-alert");
  var alertSrc = root.getAttribute("data-alert-src");
  var alertPollMs = Math.max(1, parseInt(root.getAttribute("data-alert-poll-seconds"), 10) || 2) * 1000;
  var alertTag = null;          // the ETag of the last alert answer
  var alertShown = root.getAttribute("data-alert") || "";   // the ref of the alert on screen, "" for none

  var slides = children(box);   // the slides of the rotation on screen, in order
  var current = 0;              // index in `slides` of the one showing
  var seen = {};                // keys of the slides shown in this cycle
  var pending = null;           // {slides, version, since}: the next rotation, waiting for a slide boundary
  var online = true;
  var reloadWanted = false;
  var timer = null;

  function children(parent) {
    var list = [], i;
    for (i = 0; i < parent.children.length; i++) { list.push(parent.children[i]); }
    return list;
  }

  function textOf(slide, selector) {
    var found = slide.querySelector(selector);
    return found ? found.textContent : "";
  }

  function keyOf(slide) {
    var image = slide.querySelector("img");
    return [slide.getAttribute("data-ref"), textOf(slide, "h2"), textOf(slide, ".text"),
            image ? image.getAttribute("src") : ""].join("\n");
  }

  function secondsOf(slide) {
    return Math.max(1, parseInt(slide.getAttribute("data-seconds"), 10) || 15);
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  // The same markup as templates/board.html renders.
  function slideElement(data) {
    var slide = element("section", "slide" + (data.image_url ? " with-image" : "") + (data.empty ? " empty" : ""));
    var words = element("div", "slide-words");
    slide.setAttribute("data-ref", data.ref || "");
    slide.setAttribute("data-seconds", String(data.seconds || 15));
    if (data.campaign) { words.appendChild(element("p", "campaign", data.campaign)); }
    words.appendChild(element("h2", "", data.title || ""));
    words.appendChild(element("p", "text", data.text || ""));
    slide.appendChild(words);
    if (data.image_url) {
      var image = element("img", "slide-image");
      image.setAttribute("alt", "");
      image.setAttribute("src", data.image_url);
      slide.appendChild(image);
    }
    return slide;
  }

  function slidesOf(answer) {
    var list = answer.rotation && answer.rotation.slides && answer.rotation.slides.length
      ? answer.rotation.slides : [{empty: true, title: stationName, text: emptyText}];
    var made = [], i;
    for (i = 0; i < list.length; i++) { made.push(slideElement(list[i])); }
    return made;
  }

  // Shrinks a slide's words until they fit the screen (a long text on a small screen); never below 45 %.
  function fit(slide) {
    var words = slide.querySelector(".slide-words"), scale = 1;
    if (!words) { return; }
    words.style.fontSize = "";
    while (slide.scrollHeight > slide.clientHeight + 1 && scale > 0.45) {
      scale -= 0.05;
      words.style.fontSize = Math.round(scale * 100) + "%";
    }
  }

  function show(index) {
    var i;
    for (i = 0; i < slides.length; i++) {
      if (i !== index && slides[i].className.indexOf(" shown") >= 0) {
        slides[i].className = slides[i].className.replace(" shown", "");
      }
    }
    current = index;
    if (slides[index].className.indexOf(" shown") < 0) { slides[index].className += " shown"; }
    seen[keyOf(slides[index])] = true;
    fit(slides[index]);
  }

  function imagesReady(list) {
    var images, i, j;
    for (i = 0; i < list.length; i++) {
      images = list[i].getElementsByTagName("img");
      for (j = 0; j < images.length; j++) { if (!images[j].complete) { return false; } }
    }
    return true;
  }

  // At a slide boundary: swaps in a waiting rotation (once its images loaded, or after 10 s without).
  function swapIfReady() {
    var i, old = slides;
    if (!pending || (!imagesReady(pending.slides) && new Date().getTime() - pending.since < 10000)) {
      return false;
    }
    slides = pending.slides;
    version = pending.version;
    pending = null;
    for (i = 0; i < slides.length; i++) { box.appendChild(slides[i]); }
    for (i = 0; i < old.length; i++) {
      if (old[i].parentNode === box && slides.indexOf(old[i]) < 0) { box.removeChild(old[i]); }
    }
    root.setAttribute("data-version", version);
    return true;
  }

  // The first slide not yet shown in this cycle, looking after `from` first, then from the start.
  function unseenFrom(from) {
    var i;
    for (i = from; i < slides.length; i++) { if (!seen[keyOf(slides[i])]) { return i; } }
    for (i = 0; i < from && i < slides.length; i++) { if (!seen[keyOf(slides[i])]) { return i; } }
    return -1;
  }

  function next() {
    var swapped = swapIfReady(), index = unseenFrom(swapped ? 0 : current + 1);
    if (index < 0) {                        // every slide shown: the cycle is complete
      if (reloadWanted && online) { window.location.reload(); return; }
      seen = {};
      index = 0;
    }
    show(index);
    timer = window.setTimeout(next, secondsOf(slides[index]) * 1000);
  }

  function setOnline(value) {
    online = value;
    root.setAttribute("data-online", value ? "true" : "false");
    if (notice) { notice.hidden = value; }
  }

  // The same markup as templates/board.html renders; `alert` null takes the banner down.
  function showAlert(alert) {
    if (!banner) { return; }
    if (!alert) {
      alertShown = "";
      banner.hidden = true;
      root.setAttribute("data-alert", "");
      return;
    }
    banner.querySelector(".alert-title").textContent = alert.title || "";
    banner.querySelector(".alert-text").textContent = alert.text || "";
    alertShown = alert.ref || "?";
    banner.hidden = false;
    root.setAttribute("data-alert", alertShown);
  }

  function pollAlert() {
    var request = new XMLHttpRequest(), done = false;
    function finish() {
      if (done) { return; }
      done = true;
      window.setTimeout(pollAlert, alertPollMs);
    }
    request.open("GET", alertSrc, true);
    request.timeout = Math.max(4000, alertPollMs);
    if (alertTag) { request.setRequestHeader("If-None-Match", alertTag); }
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      var answer;
      if (request.status === 200) {
        try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
        if (answer) {
          alertTag = request.getResponseHeader("ETag");
          showAlert(answer.alert);
        }
      }
      finish();
    };
    request.onerror = request.ontimeout = request.onabort = finish;
    request.send();
  }

  function received(answer) {
    if (answer.alert !== undefined && (answer.alert ? answer.alert.ref : "") !== alertShown) {
      alertTag = null;   // the alert poll is behind (or failing): the JSON says what is in force
      showAlert(answer.alert);
    }
    if (answer.page && answer.page !== pageVersion) { reloadWanted = true; }
    if (pending && pending.version === answer.version) { return; }
    if (pending) { removeAll(pending.slides); pending = null; }
    if (answer.version === version) { return; }   // back to what is showing before the swap came
    pending = {slides: slidesOf(answer), version: answer.version, since: new Date().getTime()};
    for (var i = 0; i < pending.slides.length; i++) { box.appendChild(pending.slides[i]); } // hidden: images load
    if (slides.length === 1 && slides[0].className.indexOf("empty") >= 0) {   // nothing to miss: at once
      pending.since = 0;                                                      // (pictures may pop in)
      window.clearTimeout(timer);
      next();
    }
  }

  function removeAll(list) {
    for (var i = 0; i < list.length; i++) { if (list[i].parentNode) { list[i].parentNode.removeChild(list[i]); } }
  }

  function poll() {
    var request = new XMLHttpRequest(), done = false;
    function finish(ok) {
      if (done) { return; }
      done = true;
      setOnline(ok);
      window.setTimeout(poll, pollMs);
    }
    request.open("GET", src, true);
    request.timeout = Math.max(5000, pollMs);
    request.setRequestHeader("If-None-Match", "\"" + (pending ? pending.version : version) + "\"");
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      var answer;
      if (request.status === 304) { finish(true); return; }
      if (request.status !== 200) { finish(false); return; }
      try { answer = JSON.parse(request.responseText); } catch (e) { finish(false); return; }
      received(answer);
      finish(true);
    };
    request.onerror = request.ontimeout = request.onabort = function () { finish(false); };
    request.send();
  }

  setOnline(true);
  window.addEventListener("resize", function () { fit(slides[current]); });
  box.addEventListener("load", function () { fit(slides[current]); }, true);   // an image took its size
  show(0);
  timer = window.setTimeout(next, secondsOf(slides[0]) * 1000);
  window.setTimeout(poll, pollMs);
  if (alertSrc) { window.setTimeout(pollAlert, alertPollMs); }
}());

/* Draws the flow diagrams with Mermaid (vendored) once they come into view, and labels them
   for assistive technology. Mermaid is large, so it is only loaded when a diagram is seen. */
(function () {
  "use strict";
  var nodes = Array.prototype.slice.call(document.querySelectorAll("pre.mermaid[data-src]"));
  if (!nodes.length) {
    return;
  }

  function label() {
    nodes.forEach(function (pre) {
      var svg = pre.querySelector("svg");
      if (!svg) {
        return;
      }
      // The text next to the figure describes it; the picture itself is one image.
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", pre.getAttribute("data-label") || "Processchema");
      svg.removeAttribute("aria-roledescription");
      svg.setAttribute("focusable", "false");
    });
    document.documentElement.setAttribute("data-diagram", "klaar");
  }

  function draw() {
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "neutral",
      fontFamily: "inherit",
      state: { useMaxWidth: false }
    });
    window.mermaid.run({ nodes: nodes }).then(label).catch(function () {
      document.documentElement.setAttribute("data-diagram", "fout");
    });
  }

  var started = false;
  function load() {
    if (started) {
      return;
    }
    started = true;
    var script = document.createElement("script");
    script.src = nodes[0].getAttribute("data-src");
    script.onload = draw;
    script.onerror = function () {
      document.documentElement.setAttribute("data-diagram", "fout");
    };
    document.head.appendChild(script);
  }

  if (!("IntersectionObserver" in window)) {
    load();
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) {
      observer.disconnect();
      load();
    }
  }, { rootMargin: "400px" });
  nodes.forEach(function (pre) { observer.observe(pre); });
})();

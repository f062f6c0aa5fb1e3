// Step 2's "Send a new code" button: count the cooldown down and enable the
// button when it is over. The page itself disables the button and names the
// wait in text, so without this script a visitor reloads once the time is up.
(function () {
  "use strict";

  const wait = document.getElementById("contact-resend-wait");
  const form = document.getElementById("contact-resend-form");
  if (!wait || !form) {
    return;
  }
  const button = form.querySelector("button[name=resend]");
  const text = wait.querySelector(".contact-resend-text");
  const ready = form.querySelector(".contact-resend-ready");
  // The monotonic clock: a system clock set back or forth moves nothing here.
  // The server rounded its wait up, so zero here is never before it agrees.
  const end = performance.now() + Number(wait.dataset.seconds) * 1000;

  function tick() {
    const left = end - performance.now();
    if (left > 0) {
      const whole = Math.ceil(left / 1000);
      text.textContent = `You can ask for a new code in ${whole} second${whole === 1 ? "" : "s"}.`;
      // Wake on the next whole second, so the number never lags a second behind.
      window.setTimeout(tick, left % 1000 || 1000);
      return;
    }
    button.disabled = false;
    button.removeAttribute("aria-describedby");
    button.classList.replace("btn-outline-secondary", "btn-outline-dark");
    wait.remove();
    // A status region, present since the page loaded, so screen readers announce it.
    ready.textContent = "You can ask for a new code now.";
  }

  tick();
})();

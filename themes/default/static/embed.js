// Embeds for the default theme (see generator/build/embeds.py): each card is a plain link until the
// reader presses its button; only then does the provider's player load, in the card's place.
// Nothing from the provider is requested before that: no script, no image, no cookie.
// The button's words in the page's language (the theme's `embed_play` text), on the script's tag.
const words = document.currentScript?.dataset.play;
for (const card of document.querySelectorAll("figure.embed[data-embed-src]")) {
  const button = card.querySelector(".embed-play");
  if (!button) continue;
  if (words) button.textContent = words.replace("{provider}", card.dataset.embedProvider);
  button.hidden = false;
  button.addEventListener("click", () => {
    const frame = document.createElement("iframe");
    frame.src = card.dataset.embedSrc;
    frame.title = card.querySelector(".embed-title")?.textContent || card.dataset.embedProvider;
    frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
    frame.referrerPolicy = "no-referrer";
    frame.loading = "eager";
    frame.className = "embed-frame";
    button.replaceWith(frame);
    card.classList.add("embed-playing");
  });
}

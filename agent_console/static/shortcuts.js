// The keyboard shortcuts of protocol v2, listed on the page (#shortcuts). Alt+<letter>, matched on the
// physical key so they work whatever the keyboard layout makes Alt+<letter> type.
export function bindShortcuts(keys) {
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const action = keys[e.code];
    if (action === undefined) return;
    e.preventDefault();
    action();
  });
}

// Show the "new organisation" fields only when the partner chooses to propose one.
(function () {
  "use strict";
  var select = document.getElementById("organisation_id");
  var fieldset = document.getElementById("new-organisation");
  if (!select || !fieldset) {
    return;
  }
  var newValue = fieldset.getAttribute("data-new-value");
  function update() {
    fieldset.hidden = select.value !== newValue;
  }
  select.addEventListener("change", update);
  update();
})();

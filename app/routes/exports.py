"""Page script for st.navigation (file-based so AppTest can switch to it); the page lives in app.views.exports."""
from app.views import exports

exports.render()

"""Page script for st.navigation (file-based so AppTest can switch to it); the page lives in app.views.results."""
from app.views import results

results.render()

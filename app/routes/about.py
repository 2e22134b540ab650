"""Page script for st.navigation (file-based so AppTest can switch to it); the page lives in app.views.about."""
from app.views import about

about.render()

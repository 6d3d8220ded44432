"""The web workbench served by ``secsim ui`` (Streamlit, the ``[ui]`` extra): a thin layer
over the scenario model, ``simulation.compare`` and the reporting figures."""
